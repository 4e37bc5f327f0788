"""kopf handlers, one module per kind. Importing a module registers its handlers."""

CONTROLLER_MODULES = (
    "ferry.controllers.settings",
    "ferry.controllers.connection",
    "ferry.controllers.project",
    "ferry.controllers.project_reports",
    "ferry.controllers.approval",
    "ferry.controllers.migration",
)
