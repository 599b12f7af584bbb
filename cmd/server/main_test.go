package main

import (
	"os"
	"testing"

	"github.com/linkbff/linkbff/api"
	"github.com/linkbff/linkbff/internal/testkit"
)

// Every exchange these tests have with linkbff is checked against the
// published OpenAPI document, so the document cannot drift from the code.
func TestMain(m *testing.M) {
	testkit.UseContract(api.OpenAPI)
	os.Exit(m.Run())
}
