# The README's "main job": boot the default Debian guest through pearvisor
# inside the nested-KVM rig (docs/testing-nested.md).
.PHONY: demo
demo: ; sh tests/nested/demo.sh
