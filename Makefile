# satmark: `make` lists the targets. `make run` and `make test` are all a new machine needs
# (plus Chromium for the browser test: .ci/run shows how to install it).

DATA    ?= ./data
ADDR    ?= 127.0.0.1:8080
BIN     := bin/satmark
GO      ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Our Go packages: ./... would also reach a Go package that an npm dependency ships in web/node_modules.
PKGS     = $$($(GO) list ./... | grep -v /node_modules/)

.DEFAULT_GOAL := help
.PHONY: help web gdal-dev ml-readers poppler build run seed test test-web test-short lint clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  make %-17s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

web: web/node_modules/.installed ## build the front end (npm ci, then esbuild into web/dist)
	cd web && npm run --silent build

gdal-dev: ## check GDAL's headers are there for the build (libgdal-dev); install them when root
	@command -v gdal-config >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" -eq 0 ]; then \
	    echo "installing libgdal-dev (GDAL's headers and library, which satmark links)"; \
	    export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends libgdal-dev >/dev/null; \
	  else \
	    echo "satmark links GDAL: install its headers first with   sudo apt-get install -y libgdal-dev"; exit 1; \
	  fi; }

ml-readers: ## check Debian's Python libraries the dataset exports are read back with (OpenCV, Shapely, lxml, PIL, PyYAML); install them when root
	@/usr/bin/python3 -c "import cv2, shapely, lxml, PIL, yaml" >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" -eq 0 ]; then \
	    echo "installing python3-opencv python3-shapely python3-lxml python3-pil python3-yaml (the ML tools' readers in server/testdata/ml_readers.py)"; \
	    export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-opencv python3-shapely python3-lxml python3-pil python3-yaml >/dev/null; \
	  else \
	    echo "the dataset export tests read with Debian's Python libraries: sudo apt-get install -y python3-opencv python3-shapely python3-lxml python3-pil python3-yaml"; exit 1; \
	  fi; }

poppler: ## check poppler-utils is there (pdftotext, pdffonts: the figure tests read the PDFs back with them); install it when root
	@command -v pdftotext >/dev/null 2>&1 && command -v pdffonts >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" -eq 0 ]; then \
	    echo "installing poppler-utils (pdftotext and pdffonts, which read the figure PDFs back in server/figure_test.go)"; \
	    export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends poppler-utils >/dev/null; \
	  else \
	    echo "the figure tests read PDFs with poppler: sudo apt-get install -y poppler-utils"; exit 1; \
	  fi; }

build: web gdal-dev ## build the front end and the binary bin/satmark
	$(GO) build -o $(BIN) .

run: build ## build, seed sample data into an empty data folder, serve (DATA=./data ADDR=127.0.0.1:8080)
	$(BIN) seed --data $(DATA) --if-empty
	$(BIN) serve --data $(DATA) --addr $(ADDR)

seed: build ## add the synthetic sample data to the data folder (images already there are kept)
	$(BIN) seed --data $(DATA)

test: web test-web gdal-dev ml-readers poppler ## run every test, including the headless Chromium browser test and the libvips oracle
	SATMARK_REQUIRE_BROWSER=1 SATMARK_REQUIRE_ORACLES=1 $(GO) test -count=1 -timeout 30m $(PKGS)

test-web: web/node_modules/.installed ## run the front end's unit tests (node --test, web/test/)
	cd web && npm test --silent

test-short: gdal-dev ## run the Go tests without building the front end (the browser test skips)
	$(GO) test $(PKGS)

lint: web/node_modules/.installed gdal-dev ## gofmt, go vet, staticcheck, and eslint on the front end (web/eslint.config.js)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt would change the files above"; exit 1; }
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)
	cd web && npm run --silent lint

.PHONY: bench bench-load bench-load-compare bench-annotations bench-import bench-export
bench: build ## satmark vs vips, nginx: pyramid build, tile serving, renders (bench/run.sh), then bench-annotations, bench-load and bench-import
	GO=$(GO) bash bench/run.sh
	$(MAKE) --no-print-directory bench-annotations
	GO=$(GO) bash bench/load.sh
	$(MAKE) bench-import
	$(MAKE) --no-print-directory bench-export

bench-import: gdal-dev ## import 100,000 annotations from satmark's GeoJSON: dry run and real run, wall and CPU time (bench/imports)
	$(GO) test ./bench/imports -run '^$$' -bench . -benchtime 1x -v

bench-export: gdal-dev ## every export format on 100,000 annotations, end to end over HTTP and through the CLI: wall, CPU, extra RSS (bench/exports)
	@mkdir -p bench/out
	$(GO) run ./bench/exports -satmark $(BIN) | tee bench/out/export-results.txt

bench-annotations: gdal-dev ## creates/s on an empty image vs one with 100,000 annotations, its full list and a page (bench/annotations)
	@mkdir -p bench/out
	$(GO) run ./bench/annotations >bench/out/annotations-results.txt
	@cat bench/out/annotations-results.txt

bench-load: build ## 50 analysts annotating for 60 s, then the same killed with SIGKILL at 30 s (bench/load.sh)
	GO=$(GO) bash bench/load.sh

bench-load-compare: build ## 100 analysts, 60 s, a SIGKILL at 30 s: SQLite 1 process vs PostgreSQL 1 and 2 behind a proxy (bench/load -compare)
	@mkdir -p bench/out
	$(GO) run ./bench/load -compare -satmark $(BIN) -analysts 100 -duration 60s -kill-after 30s | tee bench/out/load-compare-results.txt

clean: ## remove build output (not the data folder)
	rm -rf bin web/dist/*.js web/dist/*.css web/dist/*.map web/node_modules
