#!/bin/sh
# Publishes a full-catalogue pipeline's templates for the `release` job of the child pipeline
# (ci/gitlab/dagger.yml, .cst-publish): the build jobs' out/<os>/ directories become one flat list of
# assets, the same as the GitHub release's (images with their .sha256/.sha512 files,
# <os>.metadata.json, <os>.sbom.cdx.json), which go to the project's generic package registry as
# package cloudstack-templates, version <YYYY.MM.DD>.<pipeline IID>. Writes release.env (a dotenv
# report: RELEASE_TAG, RELEASE_PACKAGE_URL) for the release job's `release:` keyword.
#
# Every asset's size is checked before anything is uploaded: GitLab refuses a generic package file
# larger than the instance's limit (5 GiB by default, Admin area > Settings > CI/CD > Package file size
# limits), so a file over CST_ASSET_MAX_BYTES (default 5368709120) fails the job, named, up front.
#
# usage: publish.sh [OUT_DIR]   (default: out)
# Needs curl and jq, and GitLab's CI_* variables (CI_API_V4_URL, CI_PROJECT_ID, CI_PROJECT_URL,
# CI_JOB_TOKEN, CI_PIPELINE_IID, CI_COMMIT_SHA).
set -eu
out="${1:-out}"
limit="${CST_ASSET_MAX_BYTES:-5368709120}"
version="$(date -u +%Y.%m.%d).${CI_PIPELINE_IID:?}"
assets="assets"

rm -rf "$assets"
mkdir -p "$assets"
found=0
for dir in "$out"/*/; do
  dir="${dir%/}"
  [ -f "$dir/metadata.json" ] || continue
  found=1
  id="${dir##*/}"
  find "$dir" -maxdepth 1 -type f \( -name '*.qcow2*' -o -name '*.vhd*' -o -name '*.ova*' \) -exec mv {} "$assets/" \;
  cp "$dir/metadata.json" "$assets/${id}.metadata.json"
  if [ -f "$dir/provenance.json" ]; then
    cp "$dir/provenance.json" "$assets/${id}.provenance.json"
  fi
  if [ -f "$dir/scan/sbom.cdx.json" ]; then
    cp "$dir/scan/sbom.cdx.json" "$assets/${id}.sbom.cdx.json"
  fi
done
if [ "$found" -eq 0 ]; then
  echo "publish.sh: no $out/<os>/metadata.json: the build jobs' artifacts are missing" >&2
  exit 1
fi
ls -l "$assets"

too_big=0
for f in "$assets"/*; do
  size="$(wc -c <"$f" | tr -d ' ')"
  if [ "$size" -gt "$limit" ]; then
    echo "ERROR: release asset ${f##*/} is ${size} bytes, over the limit of ${limit} bytes (CST_ASSET_MAX_BYTES: GitLab's generic package file size limit). Build without that format (PACKER_FORMAT), or raise the instance's limit and CST_ASSET_MAX_BYTES with it." >&2
    too_big=1
  fi
done
if [ "$too_big" -ne 0 ]; then
  exit 1
fi

base="${CI_API_V4_URL:?}/projects/${CI_PROJECT_ID:?}/packages/generic/cloudstack-templates/${version}"
package_id=""
for f in "$assets"/*; do
  name="${f##*/}"
  echo "uploading ${name}"
  answer="$(curl --fail-with-body --silent --show-error --retry 3 \
    --header "JOB-TOKEN: ${CI_JOB_TOKEN:?}" \
    --upload-file "$f" "${base}/${name}?select=package_file")"
  package_id="$(printf '%s' "$answer" | jq -er .package_id)"
done

{
  echo "RELEASE_TAG=v${version}"
  echo "RELEASE_PACKAGE_URL=${CI_PROJECT_URL:?}/-/packages/${package_id}"
} >release.env
cat release.env
