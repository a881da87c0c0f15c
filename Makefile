# mocoedge: the commands the README names.
#   make demo   the main job end to end on embedded defaults
#   make test   install what a fresh Debian machine lacks, then vet and test
SHELL := bash
GO ?= go
DATA ?= ../shared/datasets/cifar10
# Extra flags for `go test`, e.g. TESTFLAGS=-short.
TESTFLAGS ?=

.PHONY: demo test deps build bench vet

## deps: install Debian packages and the ONNX Runtime library (quiet when present)
deps:
	@bash deploy/install-deps.sh

## build: the binaries into bin/
build:
	$(GO) build -o bin/ ./trainer/cmd/trainer ./edge/cmd/edge ./firmware-bridge/cmd/fwbridge ./demo

## demo: the whole loop: pretrain + export, the edge daemon with its embedded broker, labels over MQTT, the probe, a report (DEMO_QUICK=1 shortens it)
demo: deps build
	bin/demo --data $(DATA)

## vet: gofmt and go vet
vet:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## test: deps, vet, every test, then the race detector over the short tests
test: deps vet
	$(GO) test $(TESTFLAGS) ./...
	$(GO) test -race -short $(TESTFLAGS) ./...

## bench: the engine benchmark against this machine's GEMM peak
bench:
	$(GO) run ./trainer/cmd/trainer bench --arch resnet18-cifar --batch 128
