// TeX in the notebooks' Markdown, typeset with KaTeX while the handouts are exported, so that a
// handout shows its formulas without a network and without running any script.
//
// nbconvert turns Markdown into HTML with its own parser, which keeps TeX as text for MathJax to
// typeset in the browser. Finding that TeX again in the HTML would be guesswork (an escaped `\$`
// and a `$` that opens a formula look the same there), so scripts/export.js works on the
// notebook instead:
//
// 1. findMath() finds the formulas in the source of each Markdown cell, with the delimiters
//    JupyterLab uses: $...$ and \\(...\\) inline; $$...$$, \\[...\\] and
//    \begin{env}...\end{env} on their own. Code spans, fenced code blocks and escaped
//    characters (`\$` is a dollar sign) are left alone.
// 2. Each formula is typeset with KaTeX and replaced in the cell by a placeholder word that
//    Markdown passes through unchanged; nbconvert converts that copy of the notebook.
// 3. putFormulas() puts the typeset HTML in place of the placeholders in the exported page, and
//    katexStyle() gives KaTeX's style sheet with its fonts inlined, for the page's <head>.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const katex = require('katex');
// The library's own escaping (compiled by `npm run build`, which installing runs).
const { escapeHtml } = require('../lib/dist/core/html');

class MathError extends Error {}

/**
 * The formulas in a Markdown text, in order, as
 * { start, end, tex, display }: `start`/`end` delimit the formula with its delimiters in
 * `markdown`, `tex` is what KaTeX typesets (an environment keeps its \begin and \end).
 */
function findMath(markdown) {
  const formulas = [];
  const n = markdown.length;
  let i = 0;
  let atLineStart = true;

  /** Index of the next `close` at or after `from` that is not escaped, or -1 (not past a blank line if `inline`). */
  const closing = (close, from, inline) => {
    for (let j = from; j < n; j++) {
      const ch = markdown[j];
      if (inline && ch === '\n' && /^\n[ \t]*(\n|$)/.test(markdown.slice(j, j + 80))) return -1;
      if (markdown.startsWith(close, j)) return j;
      if (ch === '\\') j++; // \$, \\ and the like are part of the TeX
    }
    return -1;
  };

  while (i < n) {
    if (atLineStart) {
      atLineStart = false;
      const fence = /^[ \t]*(?:>[ \t]*)*(`{3,}|~{3,})/.exec(markdown.slice(i, i + 200));
      if (fence) {
        // A fenced code block: skip to the line after its closing fence (or to the end).
        const marker = fence[1];
        const closeFence = new RegExp(`\\n[ \\t]*(?:>[ \\t]*)*${marker[0] === '`' ? '`' : '~'}{${marker.length},}[ \\t]*(?=\\n|$)`, 'g');
        closeFence.lastIndex = i + fence[0].length;
        const end = closeFence.exec(markdown);
        i = end ? end.index + end[0].length : n;
        continue;
      }
    }
    const ch = markdown[i];
    if (ch === '\n') {
      atLineStart = true;
      i++;
    } else if (ch === '`') {
      // A code span: a run of backticks up to the next run of the same length.
      let run = 1;
      while (markdown[i + run] === '`') run++;
      const fence = '`'.repeat(run);
      let j = i + run;
      let end = -1;
      while ((j = markdown.indexOf(fence, j)) >= 0) {
        let k = j + run;
        while (markdown[k] === '`') k++;
        if (k - j === run) {
          end = k;
          break;
        }
        j = k;
      }
      i = end >= 0 ? end : i + run;
    } else if (markdown.startsWith('\\\\(', i) || markdown.startsWith('\\\\[', i)) {
      const display = markdown[i + 2] === '[';
      const close = display ? '\\\\]' : '\\\\)';
      const end = closing(close, i + 3, !display);
      if (end < 0) {
        i += 3;
      } else {
        formulas.push({ start: i, end: end + 3, tex: markdown.slice(i + 3, end), display });
        i = end + 3;
      }
    } else if (markdown.startsWith('\\begin{', i)) {
      const open = /^\\begin\{([A-Za-z]+\*?)\}/.exec(markdown.slice(i, i + 80));
      const endTag = open ? `\\end{${open[1]}}` : '';
      const end = open ? markdown.indexOf(endTag, i + open[0].length) : -1;
      if (end < 0) {
        i += 7;
      } else {
        formulas.push({ start: i, end: end + endTag.length, tex: markdown.slice(i, end + endTag.length), display: true });
        i = end + endTag.length;
      }
    } else if (ch === '\\') {
      i += 2; // an escaped character, e.g. \$ for a dollar sign
    } else if (ch === '$') {
      const display = markdown[i + 1] === '$';
      const open = display ? 2 : 1;
      const end = closing(display ? '$$' : '$', i + open, !display);
      if (end < 0 || end === i + open) {
        i += open; // no closing delimiter, or nothing between: a plain dollar sign
      } else {
        formulas.push({ start: i, end: end + open, tex: markdown.slice(i + open, end), display });
        i = end + open;
      }
    } else {
      i++;
    }
  }
  return formulas;
}

/**
 * Typesets the formulas of every Markdown cell of `notebook` (a parsed .ipynb) and returns
 * { notebook, formulas }: a copy whose Markdown has a placeholder word in place of each formula,
 * and the list of { placeholder, tex, display, html, cell } to put back with putFormulas().
 * `\newcommand` and `\def` hold from where they are made to the end of the notebook, as in
 * JupyterLab. Throws a MathError naming the cell when KaTeX cannot typeset a formula.
 */
function protectMath(notebook) {
  const nonce = crypto.randomBytes(6).toString('hex');
  const macros = {};
  const formulas = [];
  const cells = (notebook.cells ?? []).map((cell, index) => {
    if (cell.cell_type !== 'markdown') return cell;
    const source = Array.isArray(cell.source) ? cell.source.join('') : String(cell.source ?? '');
    const found = findMath(source);
    if (found.length === 0) return cell;
    let text = '';
    let from = 0;
    for (const { start, end, tex, display } of found) {
      const placeholder = `ssvaemath${nonce}n${formulas.length}x`;
      let html;
      try {
        html = katex.renderToString(tex, { displayMode: display, throwOnError: true, output: 'htmlAndMathml', macros, globalGroup: true });
      } catch (error) {
        throw new MathError(`Markdown cell ${index + 1}: KaTeX cannot typeset ${source.slice(start, end).trim()}: ${error.message}`);
      }
      formulas.push({ placeholder, tex, display, html, cell: index + 1 });
      text += source.slice(from, start) + placeholder;
      from = end;
    }
    text += source.slice(from);
    return { ...cell, source: text };
  });
  return { notebook: { ...notebook, cells }, formulas };
}

/**
 * Puts the typeset formulas in place of their placeholders in the exported `html`. Inside a tag
 * (an attribute such as a heading's id or an image's alt text) a placeholder becomes the TeX as
 * text. Throws a MathError when a formula did not reach the page's text.
 */
function putFormulas(html, formulas) {
  if (formulas.length === 0) return html;
  const byPlaceholder = new Map(formulas.map((formula) => [formula.placeholder, formula]));
  const shown = new Set();
  const pattern = new RegExp(`ssvaemath[0-9a-f]{12}n\\d+x`, 'g');
  const result = html.replace(pattern, (placeholder, offset) => {
    const formula = byPlaceholder.get(placeholder);
    if (!formula) return placeholder;
    const inTag = html.lastIndexOf('<', offset) > html.lastIndexOf('>', offset);
    if (inTag) return escapeHtml(formula.tex.trim());
    shown.add(placeholder);
    return formula.html;
  });
  const lost = formulas.filter((formula) => !shown.has(formula.placeholder));
  if (lost.length > 0) {
    const list = lost.map((formula) => `cell ${formula.cell}: ${formula.tex.trim()}`).join('; ');
    throw new MathError(`the Markdown conversion dropped ${lost.length} formula(s): ${list}`);
  }
  return result;
}

let styleCache;

/**
 * KaTeX's style sheet as a <style> element, with its fonts (the WOFF2 files, which every browser
 * that runs the handouts' pages reads) inlined as data: URLs, so the page needs no other file.
 */
function katexStyle() {
  if (styleCache) return styleCache;
  const dist = path.dirname(require.resolve('katex/dist/katex.min.css'));
  const css = fs
    .readFileSync(path.join(dist, 'katex.min.css'), 'utf8')
    .replace(
      /src:url\((fonts\/[^)]+\.woff2)\) format\("woff2"\)(?:,url\([^)]*\) format\("[^"]*"\))*/g,
      (_, file) => `src:url(data:font/woff2;base64,${fs.readFileSync(path.join(dist, file)).toString('base64')}) format("woff2")`,
    );
  const leftover = css.match(/url\((?!data:)[^)]*\)/);
  if (leftover) throw new MathError(`katex.min.css refers to ${leftover[0]}, which the export does not know how to inline`);
  styleCache = `<style id="katex-style">/* KaTeX ${katex.version}, MIT licence */\n${css}</style>\n`;
  return styleCache;
}

/** Adds KaTeX's style sheet at the end of the page's <head>. */
function addKatexStyle(html) {
  const at = html.search(/<\/head>/i);
  if (at < 0) throw new MathError('the exported page has no </head> for the KaTeX style sheet');
  return html.slice(0, at) + katexStyle() + html.slice(at);
}

module.exports = { findMath, protectMath, putFormulas, katexStyle, addKatexStyle, MathError };
