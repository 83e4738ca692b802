/** Text inside HTML markup: the one escaping function for every table, figure and handout. */

/** Escapes &, <, > and " so that `text` is shown as it is, in element content or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
