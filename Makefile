# The whole test suite: installs the test tools when missing, then checks
# formatting and vet, and runs unit and end-to-end tests with the race
# detector. CI runs exactly this (.ci/run).
.PHONY: test test-short run bench

test:
	./.ci/install-test-deps.sh
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	CENTRALINO_REQUIRE_BROWSER=1 go test -race -count=1 -timeout 30m ./...

test-short:
	go test -short ./...

run:
	go run ./cmd/centralino

bench:
	go test -run '^$$' -bench . -benchmem ./...
