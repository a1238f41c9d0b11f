// micros-docgen: the "copy link" button of each option copies the URL of
// the option's anchor; without clipboard access it moves to the anchor, so
// the address bar holds the link.
(function () {
    'use strict';
    function pageUrl() {
        return window.location.href.split(/[?#]/)[0];
    }
    function copied(button) {
        button.classList.add('copied');
        window.setTimeout(function () { button.classList.remove('copied'); }, 1500);
    }
    document.querySelectorAll('button.option-copy').forEach(function (button) {
        button.addEventListener('click', function () {
            var anchor = button.getAttribute('data-anchor');
            var url = pageUrl() + '#' + anchor;
            var fallback = function () {
                window.history.replaceState(null, '', '#' + anchor);
            };
            if (navigator.clipboard && window.isSecureContext) {
                navigator.clipboard.writeText(url).then(function () { copied(button); }, fallback);
            } else {
                fallback();
            }
        });
    });
})();
