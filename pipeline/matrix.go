package main

import "github.com/cloudstack-templates/cloudstack-templates/osdefs"

// The CI build matrix for an OS filter, as one line of JSON: {"os":["almalinux-9",...],
// "fullCatalogue":true}. os lists the IDs to build, one job each, in catalogue order without
// duplicates; fullCatalogue is true when they are every OS that all selects (the condition for a
// release). Fixtures need a local mirror that CI cannot reach, so naming one fails, as does a name
// the catalogue does not know: a mistyped filter never yields an empty matrix. GitHub Actions, GitLab
// CI and Buildkite all compute their matrix with it.
func (m *CloudstackTemplates) Matrix(
	// OSes to build: all (every vendor OS), or a comma-separated list of IDs and aliases (see the list
	// function); fixtures such as testbed are refused.
	// +default="all"
	osFilter string,
) (string, error) {
	return osdefs.CIMatrixJSON(osFilter)
}
