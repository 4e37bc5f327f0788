# Sourced by image/*.sh: the pip options that pick binary wheels for the image's Python
# (PY_TAG like 312) and machine (ARCH: this host's, x86_64 or aarch64), not the host's Python.
# Every dependency of Ferry has manylinux wheels, so the image needs no compiler; a package
# without one makes `pip download` fail here, loudly.
pip_target_options() {
  local py_tag=$1 arch=${ARCH:-$(uname -m)}
  [ "$arch" = arm64 ] && arch=aarch64
  printf '%s\n' --only-binary=:all: --implementation cp \
    --python-version "${py_tag:0:1}.${py_tag:1}" --abi "cp${py_tag}" --abi abi3 --abi none \
    --platform "manylinux2014_$arch" --platform "manylinux_2_17_$arch" \
    --platform "manylinux_2_28_$arch" --platform "linux_$arch"
}
