# Reports (package reports, sql/views/report_*.sql, docs/reports.md).
.PHONY: test-reports bench-reports report-golden report-screenshot

test-reports:
	$(GO) test -count=1 ./reports/...

# The 1000-trial report benchmark: load + build + render per format.
bench-reports:
	$(GO) test -run '^$$' -bench BenchmarkReport -benchmem ./reports

# Rewrite reports/testdata/report/*.golden after an intended output change.
report-golden:
	$(GO) test -count=1 ./reports -run Golden -update

# Re-take docs/report-screenshot.png with headless Chromium (apt: chromium)
# from the HTML report of the article study (make article-cpu writes
# runs/article-cpu/report.html): a real CIFAR-10 sweep, not a fixture.
REPORT_HTML ?= runs/article-cpu/report.html
report-screenshot:
	test -f $(REPORT_HTML) || { echo "no $(REPORT_HTML): run make article-cpu first" >&2; exit 1; }
	chromium --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
		--user-data-dir=$$(mktemp -d) --window-size=1240,2000 \
		--screenshot=$(CURDIR)/docs/report-screenshot.png file://$(abspath $(REPORT_HTML))
