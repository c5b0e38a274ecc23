# The CI build matrix, from the module's own catalogue: `dagger call list --format json | jq -c --arg filter
# "$OS_FILTER" -f ci/matrix.jq` prints a JSON array of OS IDs. Used by GitHub Actions, GitLab CI and
# Buildkite alike, so no CI keeps a hand-written list of operating systems.
#
# $filter: "all" (or empty) for every buildable OS, else a comma-separated list of IDs or aliases.
# Fixtures (the offline testbed, which needs a local mirror) are never built in CI: naming one, or
# anything the catalogue does not know, is an error rather than an empty matrix.
[.[] | select(.fixture | not)] as $buildable
| ($filter | gsub("\\s"; "")) as $f
| if $f == "" or $f == "all" then
    [$buildable[].id]
  else
    [ $f | split(",")[] | select(. != "") as $want
      | [$buildable[] | select(.id == $want or any(.aliases[]; . == $want))]
      | if length == 0 then error("os filter: \($want) is not an OS that CI builds (see `dagger call list`)")
        else .[0].id end ]
    | unique
  end
| if length == 0 then error("os filter: the catalogue has nothing to build") else . end
