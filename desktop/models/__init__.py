"""Qt item models over engine objects (rankings, thumbnails, filters)."""
