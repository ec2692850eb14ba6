# Tests for PLT001, in the form `opa test` and conftest use: each test gives the rule its input
# with `with input as`. `slsalint packs test rules/platform-team` runs them; so does OPA.
# The inputs carry only the fields the rule reads (the full documents slsalint builds are in
# testdata/, see docs/rego.md).
package platform.base_images_test

import rego.v1

import data.platform.base_images

provenance(materials) := {"provenance": {"materials": materials}}

material(uri, index) := {"uri": uri, "digest": {"sha256": "00"}, "pointer": sprintf("/predicate/materials/%d", [index])}

test_allowed_base_images_pass if {
	inp := provenance([
		material("pkg:docker/golang@1.22?digest=sha256:00&platform=linux%2Famd64", 0),
		material("pkg:docker/gcr.io/distroless/static-debian12?platform=linux%2Famd64", 1),
		material("pkg:generic/tool@1.2", 2),
	])
	count(base_images.deny) == 0 with input as inp
}

test_untrusted_registry_is_denied if {
	inp := provenance([
		material("pkg:docker/evil.example.com/mirror/golang@1.22?digest=sha256:00", 0),
		material("pkg:docker/gcr.io/distroless/static-debian12", 1),
	])
	results := base_images.deny with input as inp
	count(results) == 1
	some result in results
	result.actual == "evil.example.com/mirror/golang"
	result.pointer == "/predicate/materials/0"
}

test_docker_hub_user_namespace_is_denied if {
	results := base_images.deny with input as provenance([material("pkg:docker/someuser/golang@1.22", 0)])
	some result in results
	result.actual == "docker.io/someuser/golang"
}

test_slsa_v1_resolved_dependencies_are_checked if {
	dependency := {
		"uri": "pkg:docker/evil.example.com/mirror/golang@1.22",
		"pointer": "/predicate/buildDefinition/resolvedDependencies/0",
	}
	results := base_images.deny with input as provenance([dependency])
	some result in results
	result.pointer == "/predicate/buildDefinition/resolvedDependencies/0"
}

test_other_statements_are_ignored if {
	count(base_images.deny) == 0 with input as {"provenance": null}
}

test_image_repository_expands_docker_hub_names if {
	base_images.image_repository("pkg:docker/golang@1.22?digest=sha256:00") == "docker.io/library/golang"
	base_images.image_repository("pkg:docker/bitnami/redis@7") == "docker.io/bitnami/redis"
	base_images.image_repository("pkg:docker/gcr.io/distroless/static-debian12?platform=linux%2Famd64") == "gcr.io/distroless/static-debian12"
	base_images.image_repository("pkg:docker/localhost:5000/app@1") == "localhost:5000/app"
	# one name without a slash is a Docker Hub library image, even with a dot in it
	base_images.image_repository("pkg:docker/golang.io@1") == "docker.io/library/golang.io"
}
