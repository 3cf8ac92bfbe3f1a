module paso.dev/supervisor

go 1.22
