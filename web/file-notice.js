// Opened from a file, the page's ES modules do not load (CORS): this classic script still runs and says so.
if (location.protocol === "file:") document.getElementById("file-notice").hidden = false;
