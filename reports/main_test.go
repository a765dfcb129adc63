package reports_test

import (
	"testing"

	"sweep/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
