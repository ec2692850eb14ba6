# METADATA
# title: Images come from the company registry
# description: Every base image in the provenance comes from registry.example.com.
# custom:
#   id: ACME001
package main

import rego.v1

deny contains msg if {
	some material in input.provenance.materials
	startswith(material.uri, "pkg:docker/")
	not startswith(material.uri, "pkg:docker/registry.example.com/")
	msg := sprintf("base image %s is not from registry.example.com", [material.uri])
}

# METADATA
# title: Provenance names its source repository
# custom:
#   id: ACME002
#   severity: warning
warn contains "the provenance does not name a source repository" if {
	is_object(input.provenance)
	not input.provenance.sourceRepository
}
