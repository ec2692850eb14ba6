# METADATA
# title: Base image registry
# description: |
#   Every base image recorded in the provenance comes from a repository the platform team
#   allows.
#
#   **What it checks.** The `pkg:docker/...` entries of the provenance's materials (SLSA v0.2) or
#   resolved dependencies (SLSA v1), which is where BuildKit records the images named in `FROM`.
#   Each one's repository (Docker Hub short names expanded: `golang` is
#   `docker.io/library/golang`) must start with one of `allowed_prefixes`.
#
#   **Why it matters.** A base image from an unvetted registry or namespace brings code nobody
#   reviewed, outside the organisation's patching and scanning.
#
#   **How to fix.** Build `FROM` an image under an allowed prefix (mirror it there first), or add
#   the prefix to `allowed_prefixes` in this pack.
#
#   **Passing example.** `FROM gcr.io/distroless/static-debian12` with `gcr.io/distroless/` allowed.
#
#   **Failing example.** `FROM evil.example.com/mirror/golang:1.22`.
# related_resources:
#   - ref: https://github.com/slsalint/slsalint/blob/main/docs/rego.md
# custom:
#   id: PLT001
#   severity: error
package platform.base_images

import rego.v1

# Repository prefixes base images may come from. Edit for your organisation.
allowed_prefixes := [
	"docker.io/library/",
	"gcr.io/distroless/",
	"cgr.dev/chainguard/",
]

deny contains result if {
	some material in input.provenance.materials
	startswith(material.uri, "pkg:docker/")
	repository := image_repository(material.uri)
	not strings.any_prefix_match(repository, allowed_prefixes)

	result := {
		"msg": concat("", ["base image ", repository, " is not from an allowed registry"]),
		"pointer": material.pointer,
		"expected": allowed_prefixes,
		"actual": repository,
		"remediation": "build FROM an image under an allowed prefix, or allow the prefix in the platform-team pack",
	}
}

# The repository a pkg:docker purl names: pkg:docker/[REGISTRY/]NAMESPACE/NAME[@VERSION][?QUALIFIERS].
image_repository(uri) := repository(purl_path(uri))

purl_path(uri) := path if {
	rest := trim_prefix(uri, "pkg:docker/")
	path := split(split(split(rest, "?")[0], "#")[0], "@")[0]
}

# A first segment that looks like a host (a dot, a port, localhost) is the registry; otherwise the
# repository is on Docker Hub, and a single name is an official image (docker.io/library/NAME).
repository(path) := path if {
	contains(path, "/")
	is_registry(split(path, "/")[0])
} else := concat("/", ["docker.io", path]) if {
	contains(path, "/")
} else := concat("/", ["docker.io/library", path])

is_registry(segment) if contains(segment, ".")

is_registry(segment) if contains(segment, ":")

is_registry(segment) if segment == "localhost"
