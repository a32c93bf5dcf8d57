/* The site form: fold the per-criterion weight inputs into one `weights` parameter (theme=3,chain=2,…). */
(function () {
  'use strict';
  const form = document.getElementById('site-form');
  if (!form) return;
  form.addEventListener('submit', () => {
    const inputs = [...form.querySelectorAll('input[data-criterion]')];
    form.elements.weights.value = inputs.map((i) => `${i.dataset.criterion}=${i.value || 0}`).join(',');
    inputs.forEach((i) => { i.disabled = true; });
    [...form.elements].forEach((e) => { if (e.name && e.value === '' && e.tagName !== 'BUTTON') e.disabled = true; });
  });
}());
