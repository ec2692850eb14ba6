# input: {"ref":"app:1","registry":"ghcr.io"}
package probe.string_interpolation_concat

import rego.v1

result := concat("", ["image ", input.ref, " from ", input.registry])
