"""The Mini App's static files (html, js, css); `ppb.http.miniapp` serves them at `/miniapp/`."""
