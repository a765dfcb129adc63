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

# Re-take docs/report-screenshot.png with headless Chromium (apt: chromium).
report-screenshot:
	$(GO) test -count=1 ./reports -run Screenshot -update
