// Our entry point, loaded with <script type="module"> at the end of <body>.
// nhsuk-frontend.min.js is an ES module; initAll() starts every component
// (header menu, error summary focus, checkboxes, radios, buttons, skip link ...).
import { initAll } from '/static/js/nhsuk-frontend.min.js';

initAll();

// ---- The incident form's drugs (issue 11): progressive enhancement only -----------------------
// Without JavaScript the page has a plain <select> of drugs and shows the "Not in the list"
// questions, saying what they are for. With it, the select gets a box that filters the list as
// you type (an ARIA 1.2 combobox: the select stays in the form and carries the value), and the
// "Not in the list" questions show only when that is chosen.

/** Shows the "Not in the list" block of a select when it is chosen (or already filled). */
function revealUnlisted(select) {
  const block = document.getElementById(select.getAttribute('aria-controls') || '');
  if (!block || !block.classList.contains('app-conditional')) return;
  const update = () => {
    const open = select.value === 'unlisted';
    block.classList.toggle('app-conditional--hidden', !open);
    select.setAttribute('aria-expanded', String(open));
  };
  select.addEventListener('change', update);
  if (!block.classList.contains('app-conditional--hidden')) select.setAttribute('aria-expanded', 'true');
  else update();
}

let pickers = 0;

/** Turns a drug <select> into a filter-as-you-type combobox that keeps the select's value. */
function drugPicker(select) {
  pickers += 1;
  const n = pickers;
  const id = select.id;
  const options = [];
  for (const el of select.querySelectorAll('option')) {
    const group = el.parentElement.tagName === 'OPTGROUP' ? el.parentElement.label : '';
    options.push({ value: el.value, text: el.textContent.trim(), group });
  }
  const named = options.filter((o) => o.value !== '');

  // The select keeps its name (so the form still sends it) but gives up its id and label to
  // the combobox, so that the label and error-summary links land on what you type in.
  select.id = `${id}-select`;
  select.hidden = true;
  select.classList.add('app-picker__select');
  select.setAttribute('aria-hidden', 'true');
  select.tabIndex = -1;

  const wrap = document.createElement('div');
  wrap.className = 'app-picker';
  const input = document.createElement('input');
  input.type = 'text';
  input.id = id;
  input.className = select.className.replace('nhsuk-select', 'nhsuk-input').replace('app-picker__select', '').trim();
  input.setAttribute('role', 'combobox');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-expanded', 'false');
  input.setAttribute('autocomplete', 'off');
  input.setAttribute('spellcheck', 'false');
  const described = select.getAttribute('aria-describedby');
  const status = document.createElement('div');
  status.id = `app-picker-status-${n}`;
  status.className = 'nhsuk-u-visually-hidden app-picker__status';
  status.setAttribute('role', 'status');
  input.setAttribute('aria-describedby', [described, status.id].filter(Boolean).join(' '));
  const list = document.createElement('ul');
  list.id = `app-picker-list-${n}`;
  list.className = 'app-picker__list';
  list.setAttribute('role', 'listbox');
  list.setAttribute('aria-label', 'Drugs');
  list.hidden = true;
  input.setAttribute('aria-controls', list.id);

  const chosen = options.find((o) => o.value !== '' && o.value === select.value);
  input.value = chosen ? chosen.text : '';
  select.after(wrap);
  wrap.append(input, list, status);

  let shown = [];
  let active = -1;

  const close = () => {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  };
  const choose = (o) => {
    select.value = o.value;
    input.value = o.text;
    select.dispatchEvent(new Event('change', { bubbles: true }));
    status.textContent = `${o.text} selected`;
    close();
  };
  const highlight = (i) => {
    active = i;
    for (const [j, li] of [...list.children].entries()) {
      li.setAttribute('aria-selected', String(j === i));
      if (j === i) {
        input.setAttribute('aria-activedescendant', li.id);
        li.scrollIntoView({ block: 'nearest' });
      }
    }
  };
  const render = () => {
    const q = input.value.trim().toLowerCase();
    shown = q === '' ? named : named.filter((o) => o.text.toLowerCase().includes(q) || o.value === 'unlisted');
    list.replaceChildren(
      ...shown.map((o, i) => {
        const li = document.createElement('li');
        li.id = `${list.id}-${i}`;
        li.className = 'app-picker__option';
        li.setAttribute('role', 'option');
        li.setAttribute('aria-selected', 'false');
        li.textContent = o.group ? `${o.text} (${o.group})` : o.text;
        li.addEventListener('mousedown', (e) => {
          e.preventDefault();
          choose(o);
        });
        return li;
      }),
    );
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    active = -1;
    input.removeAttribute('aria-activedescendant');
    status.textContent = `${shown.length} ${shown.length === 1 ? 'drug' : 'drugs'} found`;
  };

  input.addEventListener('input', () => {
    // What is typed is not a choice until one is picked.
    if (select.value !== '') {
      select.value = '';
      select.dispatchEvent(new Event('change', { bubbles: true }));
    }
    render();
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      if (list.hidden) render();
      highlight(Math.min(active + 1, shown.length - 1));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      if (!list.hidden) highlight(Math.max(active - 1, 0));
    } else if (e.key === 'Enter') {
      if (!list.hidden && active >= 0 && shown[active]) {
        e.preventDefault();
        choose(shown[active]);
      }
    } else if (e.key === 'Escape') {
      close();
    }
  });
  input.addEventListener('blur', () => {
    close();
    // An exact name typed without picking it still counts.
    const exact = named.find((o) => o.text.toLowerCase() === input.value.trim().toLowerCase());
    if (exact && select.value !== exact.value) choose(exact);
  });
}

// The crime reference under "Yes" (a conditional reveal of a radio). The NHS.UK radios script
// would set aria-expanded on the radio, which ARIA does not allow on a radio (axe's
// aria-allowed-attr): this one only shows and hides the block.
for (const input of document.querySelectorAll('input[type="radio"][data-app-reveals]')) {
  const block = document.getElementById(input.dataset.appReveals);
  if (!block) continue;
  const group = document.querySelectorAll(`input[type="radio"][name="${CSS.escape(input.name)}"]`);
  const update = () => block.classList.toggle('nhsuk-radios__conditional--hidden', !input.checked);
  for (const radio of group) radio.addEventListener('change', update);
  update();
}

for (const select of document.querySelectorAll('select[data-module="app-drug-picker"]')) {
  revealUnlisted(select);
  drugPicker(select);
}
