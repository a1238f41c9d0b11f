;;; micros.el --- MicrOS configurations through eglot and micros-lsp -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "27.1") (eglot "1.9"))
;; Keywords: languages, nix, tools

;;; Commentary:

;; Registers the `micros-lsp' language server with eglot for Nix buffers
;; (`nix-mode', `nix-ts-mode', or the small `micros-nix-mode' this file
;; provides when neither is installed) and passes it the `micros' settings.
;;
;;   (require 'micros)
;;   (setq micros-source "~/src/micros")          ; optional, see below
;;   (setq micros-eval t)                         ; optional: options from Nix
;;   (add-hook 'nix-mode-hook #'eglot-ensure)     ; or M-x eglot
;;
;; Without `micros-source' the server uses MICROS_SRC / MICROS_NIXPKGS, then
;; the micros input of the project's flake.lock.  With `micros-eval' the
;; server evaluates the options with Nix, which runs the flake's code: it
;; is off unless you turn it on.  Eglot runs one server per
;; buffer: for Nix buffers micros-lsp takes the place of nil or rnix-lsp.

;;; Code:

(require 'eglot)
(require 'jsonrpc)

(defgroup micros nil
  "MicrOS configurations through the micros-lsp language server."
  :group 'languages
  :prefix "micros-")

(defcustom micros-lsp-program "micros-lsp"
  "The language server: a command on `exec-path' or a file name."
  :type 'string)

(defun micros--set-and-notify (symbol value)
  "Set SYMBOL to VALUE and tell running servers (see `micros-reconfigure')."
  (set-default symbol value)
  (when (fboundp 'micros-reconfigure)
    (micros-reconfigure)))

(defcustom micros-source nil
  "The micros source tree (the server's `micros.source' setting)."
  :type '(choice (const :tag "Find it" nil) directory)
  :set #'micros--set-and-notify)

(defcustom micros-nixpkgs nil
  "The nixpkgs tree whose modules micros imports (`micros.nixpkgs')."
  :type '(choice (const :tag "Find it" nil) directory)
  :set #'micros--set-and-notify)

(defcustom micros-options nil
  "An options.json to use instead of extracting (`micros.options')."
  :type '(choice (const :tag "Extract" nil) file)
  :set #'micros--set-and-notify)

(defcustom micros-eval nil
  "Evaluate the option set with Nix (`micros.eval').
Exact where a declaration depends on evaluation, but it runs the flake's
Nix code (micros's modules, and the project's flake and its inputs when
`micros-source' is nil), so it is off unless you turn it on.  Needs `nix'
on the server's PATH; when Nix is missing, fails or takes over 60 s, the
server says so once and uses the options extracted without Nix."
  :type 'boolean
  :set #'micros--set-and-notify)

(defcustom micros-generic-diagnostics t
  "Report syntax errors, undefined and unused names and nil's lints.
Set it to nil only to keep another Nix server (nil, nixd) beside
micros-lsp in the same buffers: that server reports those, and
micros-lsp keeps to the options (`micros.diagnostics.generic')."
  :type 'boolean
  :set #'micros--set-and-notify)

(defcustom micros-formatting-command nil
  "A formatter to run instead of the built-in alejandra style.
A list: the program and its arguments, e.g. (\"nixfmt\").  It reads Nix
on stdin and writes the formatted text on stdout; the server stops it
after 10 s (`micros.formatting.command')."
  :type '(choice (const :tag "alejandra (built in)" nil) (repeat string))
  :set #'micros--set-and-notify)

(defcustom micros-major-modes '(nix-mode nix-ts-mode micros-nix-mode)
  "Major modes whose buffers micros-lsp serves."
  :type '(repeat symbol))

(defun micros--path (path)
  "PATH with `~' expanded; relative paths are left to the server, which
reads them from the workspace root."
  (if (string-prefix-p "~" path) (expand-file-name path) path))

(defun micros-settings ()
  "The `micros' settings section, as a plist for JSON.
Every key is sent, an unset path as null (nil) and `eval' as true or
false, so that clearing a variable clears the setting in a running server
too (the server ignores a null `eval', hence `:json-false')."
  (let ((path (lambda (value)
                (and value (not (string-empty-p value)) (micros--path value)))))
    (list :source (funcall path micros-source)
          :nixpkgs (funcall path micros-nixpkgs)
          :options (funcall path micros-options)
          :eval (if micros-eval t :json-false)
          :diagnostics (list :generic (if micros-generic-diagnostics t :json-false))
          :formatting (list :command (and micros-formatting-command
                                          (vconcat micros-formatting-command))))))

(defun micros--contact (&optional _interactive)
  "The eglot contact: the server and its initializationOptions.
A function, so that customizations made after loading apply."
  (list micros-lsp-program
        :initializationOptions (lambda (_server) (list :micros (micros-settings)))))

(defun micros--servers ()
  "Running eglot servers started from `micros--contact'."
  (let (servers)
    (maphash (lambda (_project list)
               (dolist (server list)
                 (when (equal (car (process-command (jsonrpc--process server)))
                              micros-lsp-program)
                   (push server servers))))
             eglot--servers-by-project)
    servers))

(defun micros-reconfigure ()
  "Send the current `micros' settings to every running micros-lsp."
  (interactive)
  (when (boundp 'eglot--servers-by-project)
    (dolist (server (micros--servers))
      (jsonrpc-notify server :workspace/didChangeConfiguration
                      (list :settings (list :micros (micros-settings)))))))

;;; A minimal Nix mode, for when no Nix major mode is installed: comments,
;;; strings, keywords.  Only `.nix' files are given to it, and only then.

(defvar micros-nix-mode-syntax-table
  (let ((table (make-syntax-table)))
    (modify-syntax-entry ?# "< b" table)
    (modify-syntax-entry ?\n "> b" table)
    (modify-syntax-entry ?/ ". 14" table)
    (modify-syntax-entry ?* ". 23" table)
    (modify-syntax-entry ?\" "\"" table)
    (modify-syntax-entry ?' "." table)
    (modify-syntax-entry ?- "_" table)
    (modify-syntax-entry ?_ "_" table)
    table)
  "Syntax table of `micros-nix-mode'.")

(defconst micros-nix-font-lock-keywords
  `((,(regexp-opt '("let" "in" "with" "rec" "inherit" "if" "then" "else" "assert" "or")
                  'symbols)
     . font-lock-keyword-face)
    (,(regexp-opt '("true" "false" "null") 'symbols) . font-lock-constant-face)
    ("\\_<\\([[:alpha:]_][[:alnum:]_'-]*\\)[[:space:]]*=[^=]" 1 font-lock-variable-name-face))
  "Highlighting of `micros-nix-mode'.")

;;;###autoload
(define-derived-mode micros-nix-mode prog-mode "Nix"
  "A minimal mode for Nix files, used when no Nix mode is installed."
  (setq-local comment-start "# ")
  (setq-local comment-start-skip "#+[\t ]*")
  (setq-local font-lock-defaults '(micros-nix-font-lock-keywords))
  (setq-local indent-tabs-mode nil))

(defun micros--nix-mode-installed-p ()
  "Whether a Nix major mode other than ours is available."
  (or (fboundp 'nix-mode) (fboundp 'nix-ts-mode)
      (locate-library "nix-mode") (locate-library "nix-ts-mode")))

(unless (micros--nix-mode-installed-p)
  (add-to-list 'auto-mode-alist '("\\.nix\\'" . micros-nix-mode)))

;; Ours first, so that it wins over the entry eglot ships for Nix.
(add-to-list 'eglot-server-programs
             (cons (mapcar (lambda (mode) (list mode :language-id "nix")) micros-major-modes)
                   #'micros--contact))

(provide 'micros)
;;; micros.el ends here
