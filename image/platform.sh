# Sourced by image/*.sh: the pip options that pick binary wheels for the image's Python
# (PY_TAG like 312), not the host's. Every dependency of Ferry has manylinux wheels, so the
# image needs no compiler; a package without one makes `pip download` fail here, loudly.
pip_target_options() {
  local py_tag=$1
  printf '%s\n' --only-binary=:all: --implementation cp \
    --python-version "${py_tag:0:1}.${py_tag:1}" --abi "cp${py_tag}" --abi abi3 --abi none \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux_2_28_x86_64 --platform linux_x86_64
}
