# The image docker-compose.yml runs as worker and as gateway.
# The native command supervisor (supervisor/, Go's standard library only), built apart.
FROM golang:1.26-bookworm AS supervisor
WORKDIR /src
COPY supervisor ./
RUN CGO_ENABLED=0 go build -trimpath -o /paso-supervisor .

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
COPY --from=supervisor /paso-supervisor ./dist/paso-supervisor
ENV NODE_ENV=production
