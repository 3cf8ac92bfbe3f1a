# The image docker-compose.yml runs as worker and as gateway.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
COPY bench ./bench
COPY examples ./examples
COPY migrations ./migrations
RUN npm run build && npm prune --omit=dev
ENV NODE_ENV=production
