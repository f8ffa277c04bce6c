file(REMOVE_RECURSE
  "libanomalyd_core.a"
)
