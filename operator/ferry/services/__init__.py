"""Services: orchestration between the controllers and the domain packages."""
