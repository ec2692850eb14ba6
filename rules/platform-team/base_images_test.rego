# Tests for PLT001. Each test gets its input document from testdata/ through `custom.input`
# (rego-cpp cannot evaluate `with input as` over rules that call built-ins; see docs/rego.md).
package platform.base_images_test

import rego.v1

import data.platform.base_images

# METADATA
# custom:
#   input: testdata/allowed.input.json
test_allowed_base_images_pass if {
	count(base_images.deny) == 0
}

# METADATA
# custom:
#   input: testdata/untrusted-base.input.json
test_untrusted_registry_is_denied if {
	count(base_images.deny) == 1
	some result in base_images.deny
	result.actual == "evil.example.com/mirror/golang"
	result.pointer == "/predicate/materials/0"
}

# METADATA
# custom:
#   input: testdata/docker-hub-user-image.input.json
test_docker_hub_user_namespace_is_denied if {
	some result in base_images.deny
	result.actual == "docker.io/someuser/golang"
}

# METADATA
# custom:
#   input: testdata/v1-untrusted-missing-labels.input.json
test_slsa_v1_resolved_dependencies_are_checked if {
	some result in base_images.deny
	result.pointer == "/predicate/buildDefinition/resolvedDependencies/0"
}

# METADATA
# custom:
#   input: testdata/sbom.input.json
test_other_statements_are_ignored if {
	count(base_images.deny) == 0
}

test_image_repository_expands_docker_hub_names if {
	base_images.image_repository("pkg:docker/golang@1.22?digest=sha256:00") == "docker.io/library/golang"
	base_images.image_repository("pkg:docker/bitnami/redis@7") == "docker.io/bitnami/redis"
	base_images.image_repository("pkg:docker/gcr.io/distroless/static-debian12?platform=linux%2Famd64") == "gcr.io/distroless/static-debian12"
	base_images.image_repository("pkg:docker/localhost:5000/app@1") == "localhost:5000/app"
}
