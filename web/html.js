// Escaping for the web UI, in a module of its own so tests can import it: esc() for any value put
// into HTML (text or a quoted attribute, either quote), seg() for any value put into a URL path.
export const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
export const seg = (s) => encodeURIComponent(String(s));
