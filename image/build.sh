#!/usr/bin/env bash
# Build Ferry's container image (`make image`): wheels on the host, then docker or buildah.
#
#   IMAGE    the tag to build (default ghcr.io/ferry-dev/ferry:<version from pyproject.toml>)
#   BASE     the base image; default: the Containerfile's python:3.12-slim-bookworm with docker,
#            and with buildah a bookworm base made by image/debian-base.sh (no registry needed)
#   BUILDER  docker or buildah (default: docker when its daemon answers, else buildah)
#   PYTHON   the host Python whose pip fetches the wheels (default: python3)
#   ARCH     the image's machine, x86_64 or aarch64 (default: this host's)
#
# pip runs here, on the host, and not in the build: it fetches the exact wheels of
# image/requirements.lock for the base's Python (whatever the host's is) through the host's
# pip configuration, which a build container does not see. Prints the image's size and digest.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
. "$here/platform.sh"
started=$SECONDS
version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$repo/operator/ferry/__init__.py")  # the one place
image=${IMAGE:-ghcr.io/ferry-dev/ferry:$version}
python=${PYTHON:-python3}
revision=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$repo" status --porcelain -- operator pyproject.toml Containerfile image 2>/dev/null)" ]; then
  revision="$revision-dirty"
fi
builder=${BUILDER:-}
if [ -z "$builder" ]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then builder=docker; else builder=buildah; fi
fi
base=${BASE:-}
if [ -z "$base" ]; then
  if [ "$builder" = docker ]; then
    base=$(sed -n 's/^ARG BASE=//p' "$repo/Containerfile")
  else
    base=localhost/ferry-base:bookworm
    bash "$here/debian-base.sh" "$base"
  fi
fi

# The base's Python decides which wheels fit (cp311, cp312, ...).
probe='import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")'
if [ "$builder" = docker ]; then
  py_tag=$(docker run --rm --entrypoint python3 "$base" -c "$probe")
else
  container=$(buildah from --quiet "$base")
  py_tag=$(buildah run --isolation chroot "$container" -- python3 -c "$probe")
  buildah rm "$container" >/dev/null
fi

context="$repo/.cache/image/context-cp$py_tag"
rm -rf "$context" && mkdir -p "$context/wheels"
mapfile -t options < <(pip_target_options "$py_tag")
echo "fetching the wheels of image/requirements.lock for CPython ${py_tag:0:1}.${py_tag:1}"
"$python" -m pip download --quiet --no-deps "${options[@]}" -r "$here/requirements.lock" -d "$context/wheels"
"$python" "$here/strip_wheels.py" "$context/wheels"
# Ferry's own wheel, built from a copy so the work tree gets no build/ or egg-info.
source_copy=$(mktemp -d)
trap 'rm -rf "$source_copy"' EXIT
cp -r "$repo/pyproject.toml" "$repo/README.md" "$source_copy/"
mkdir "$source_copy/operator" && cp -r "$repo/operator/ferry" "$source_copy/operator/"
find "$source_copy" -name __pycache__ -prune -exec rm -rf {} +
"$python" -m pip wheel --quiet --no-deps -w "$context/wheels" "$source_copy" 2>/dev/null \
  || "$python" -m pip wheel --no-deps -w "$context/wheels" "$source_copy"

build_args=(--build-arg "BASE=$base" --build-arg "VERSION=$version" --build-arg "REVISION=$revision")
echo "building $image on $base with $builder"
if [ "$builder" = docker ]; then
  docker build --quiet -f "$repo/Containerfile" "${build_args[@]}" -t "$image" "$context" >/dev/null
  size=$(docker image inspect --format '{{.Size}}' "$image")
  # docker knows the image ID (its config's digest); the registry digest comes with the push.
  digest=$(docker image inspect --format '{{.Id}}' "$image")
else
  # chroot isolation: the default (OCI runtime) needs privileges a container sandbox lacks.
  buildah bud --quiet --isolation chroot -f "$repo/Containerfile" "${build_args[@]}" \
    -t "$image" "$context" >/dev/null
  size=$(buildah images --format '{{.Size}}' "$image" | head -n 1)
  digest=$(buildah images --digests --format '{{.Digest}}' "$image" | head -n 1)
fi
echo "image $image: size $size, digest $digest (built in $((SECONDS - started)) s)"
