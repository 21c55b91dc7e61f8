// Our entry point, loaded with <script type="module"> at the end of <body>.
// nhsuk-frontend.min.js is an ES module; initAll() starts every component
// (header menu, error summary focus, checkboxes, radios, buttons, skip link ...).
import { initAll } from '/static/js/nhsuk-frontend.min.js';

initAll();
