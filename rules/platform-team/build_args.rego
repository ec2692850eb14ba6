# Build arguments a platform team requires or forbids. BuildKit records them (build-arg:NAME,
# label:NAME) only in mode=max provenance, so these rules say nothing about mode=min (SL302 does).
package platform.build_args

import rego.v1

# Recorded build options every image must carry (docker/build-push-action and docker/metadata-action
# set these labels; scanners use them to link the image to its source).
required_args := [
	"label:org.opencontainers.image.source",
	"label:org.opencontainers.image.revision",
]

# Build arguments that switch off verification of what the build downloads.
forbidden_args := {
	"build-arg:GOINSECURE",
	"build-arg:GONOSUMDB",
	"build-arg:GONOSUMCHECK",
	"build-arg:GOFLAGS_INSECURE",
	"build-arg:GIT_SSL_NO_VERIFY",
	"build-arg:PIP_TRUSTED_HOST",
	"build-arg:NODE_TLS_REJECT_UNAUTHORIZED",
}

recorded if {
	input.provenance.flavor == "buildkit"
	input.provenance.mode == "max"
}

# METADATA
# title: Required build arguments
# description: |
#   BuildKit mode=max provenance records every build option in `required_args` with a value.
#
#   **What it checks.** The recorded build options (`buildArgs` of the input's provenance view):
#   `label:org.opencontainers.image.source` and `label:org.opencontainers.image.revision` must be
#   present and non-empty.
#
#   **Why it matters.** Without them the image cannot be traced back to its repository and commit
#   by scanners and by people.
#
#   **How to fix.** Set the labels (`docker/metadata-action` does) or pass them with
#   `--label` / `LABEL` in the build.
#
#   **Passing example.** `--label org.opencontainers.image.source=https://github.com/org/app`.
#
#   **Failing example.** A build without the labels.
# custom:
#   id: PLT002
deny contains result if {
	recorded
	some name in required_args
	object.get(input.provenance.buildArgs, name, "") == ""
	result := {
		"msg": concat("", ["required build argument ", name, " is not recorded"]),
		"pointer": input.provenance.pointers.buildArgs,
		"expected": name,
	}
}

# METADATA
# title: Forbidden build arguments
# description: |
#   No build argument in `forbidden_args` (ones that switch off checksum or TLS verification of
#   downloaded dependencies) is recorded.
#
#   **What it checks.** The names of the recorded build options (BuildKit mode=max).
#
#   **Why it matters.** A build that skips dependency verification can silently pull tampered
#   modules or packages.
#
#   **How to fix.** Drop the argument; mirror private dependencies in a verified proxy instead.
#
#   **Passing example.** `--build-arg GOPROXY=https://proxy.example.com`.
#
#   **Failing example.** `--build-arg GONOSUMDB=*`.
# custom:
#   id: PLT003
#   severity: warning
warn contains result if {
	recorded
	some name, _ in input.provenance.buildArgs
	name in forbidden_args
	result := {
		"msg": concat("", ["build argument ", name, " switches off dependency verification"]),
		"pointer": concat("/", [input.provenance.pointers.buildArgs, replace(replace(name, "~", "~0"), "/", "~1")]),
		"actual": name,
	}
}
