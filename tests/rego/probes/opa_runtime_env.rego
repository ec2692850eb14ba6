package probe.opa_runtime_env

import rego.v1

result := object.get(opa.runtime(), "env", "no environment")
