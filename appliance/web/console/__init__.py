"""The web console: a single page of plain ES modules and CSS, served from the
package with no build step and nothing fetched from the network."""

from appliance.web.console.routes import router

__all__ = ["router"]
