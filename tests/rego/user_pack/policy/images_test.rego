package main

import rego.v1

test_company_images_pass if {
	count(deny) == 0 with input as {"provenance": {
		"materials": [{"uri": "pkg:docker/registry.example.com/base/golang@1.22"}],
		"sourceRepository": "https://github.com/acme/app",
	}}
}

test_other_registries_are_denied if {
	deny["base image pkg:docker/docker.io/library/golang@1.22 is not from registry.example.com"] with input as {"provenance": {"materials": [{"uri": "pkg:docker/docker.io/library/golang@1.22"}]}}
}

test_missing_source_warns if {
	count(warn) == 1 with input as {"provenance": {"materials": []}}
}

test_no_provenance_no_warning if {
	count(warn) == 0 with input as {"provenance": null}
}
