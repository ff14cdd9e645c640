"""The operators' console: static html/js/css served at /console/ (data from /api/v1/admin)."""
