# Dashboard (package dashboard, cmd/sweep/dashboard.go, internal/cdp, docs/dashboard.md).
.PHONY: test-dashboard dashboard-screenshot

# Handler tests, the CDP client and the command's tests, the headless
# Chromium test included (skipped without chromium).
test-dashboard:
	$(GO) test -count=1 ./dashboard/... ./internal/cdp/...
	$(GO) test -count=1 -run 'Dashboard' ./cmd/sweep

# Re-take docs/dashboard.png: TestDashboard_Browser runs a synthetic study,
# watches it live in headless Chromium (apt: chromium) and saves the page.
dashboard-screenshot:
	SWEEP_DASHBOARD_SCREENSHOT=$(CURDIR)/docs/dashboard.png $(GO) test -count=1 -v -run 'TestDashboard_Browser' ./cmd/sweep
