;;; client-test.el --- Emacs with eglot and micros.el against micros-lsp -*- lexical-binding: t; -*-

;; emacs --batch -Q -L editors/emacs -l editors/emacs/test/client-test.el configuration.nix
;;
;; Environment: MICROS_LSP (the server), MICROS_TEST_SOURCE and
;; MICROS_TEST_NIXPKGS (passed only through micros.el's settings).  Checks
;; that the unknown-option diagnostic arrives through flymake, that hover
;; (eldoc) on an option shows its description, that completion after
;; `services.' offers getty, that changed settings (`micros-source',
;; `micros-eval') reach the running server, that formatting leaves a
;; broken file alone and formats a sound one into exactly the text
;; expected, and that renaming a binding renames its use.  Exits 0 when
;; all pass, 1 with a message.

;;; Code:

(require 'micros)
(require 'flymake)
(require 'cl-lib)

(defvar micros-test-timeout
  (/ (string-to-number (or (getenv "MICROS_TEST_TIMEOUT_MS") "30000")) 1000.0))
(defvar micros-test-start (float-time))

(defvar micros-test-capture
  (and (not noninteractive) (getenv "TMUX_PANE") (getenv "MICROS_TEST_CAPTURE"))
  "With Emacs's UI in tmux: the file screens are recorded into.")

(defun micros-test-write (text stream)
  "Write TEXT to STREAM, or beside the capture file when the terminal is Emacs's."
  (if micros-test-capture
      (write-region text nil (concat micros-test-capture ".log") t 'silent)
    (princ text stream)))

(defun micros-test-log (format-string &rest args)
  (micros-test-write (format "[%5d ms] %s\n"
                             (round (* 1000 (- (float-time) micros-test-start)))
                             (apply #'format format-string args))
                     standard-output))

(defun micros-test-fail (format-string &rest args)
  (micros-test-write (format "FAIL (emacs %s): %s\n" emacs-version (apply #'format format-string args))
                     #'external-debugging-output)
  (kill-emacs 1))

(defun micros-test-screen (title)
  "Record the screen under TITLE, when recording."
  (when micros-test-capture
    (redisplay t)
    (sleep-for 0.3)
    (let ((screen (with-output-to-string
                    (call-process "tmux" nil standard-output nil
                                  "capture-pane" "-p" "-t" (getenv "TMUX_PANE")))))
      (write-region (concat "--- " title "\n"
                            (replace-regexp-in-string "[ \t]+$" "" (string-trim-right screen))
                            "\n")
                    nil micros-test-capture t 'silent))))

(defun micros-test-env (name)
  (let ((value (getenv name)))
    (if (and value (not (string-empty-p value))) value
      (micros-test-fail "set %s" name))))

(defun micros-test-wait (what predicate)
  "Process events until PREDICATE is non-nil; fail naming WHAT on timeout."
  (let ((deadline (+ (float-time) micros-test-timeout))
        result)
    (while (and (not (setq result (funcall predicate)))
                (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (or result (micros-test-fail "%s within %.0f s" what micros-test-timeout))))

(defun micros-test-position (text)
  "The buffer position where TEXT first occurs."
  (save-excursion
    (goto-char (point-min))
    (if (search-forward text nil t) (match-beginning 0)
      (micros-test-fail "the fixture has no `%s'" text))))

(defvar micros-test-said nil
  "The server's messages, newest first: (shown . TEXT) for showMessage,
\(nil . TEXT) for logMessage.  Warnings come before the summary line of
the option load they belong to.")

(advice-add 'eglot-handle-notification :before
            (lambda (_server method &rest params)
              (pcase method
                ('window/showMessage (push (cons t (plist-get params :message)) micros-test-said))
                ('window/logMessage (push (cons nil (plist-get params :message)) micros-test-said)))))

(defun micros-test-next-load (what)
  "The warnings shown up to the next option load's summary, which is consumed."
  (let* ((in-order nil)
         (summary
          (micros-test-wait
           (format "no option load %s; the server said %S" what (reverse micros-test-said))
           (lambda ()
             (setq in-order (reverse micros-test-said))
             (cl-position-if (lambda (m) (and (not (car m)) (string-match-p "options" (cdr m))))
                             in-order)))))
    (setq micros-test-said (reverse (nthcdr (1+ summary) in-order)))
    (mapcar #'cdr (cl-remove-if-not #'car (cl-subseq in-order 0 summary)))))

(defun micros-test-run ()
  (setq micros-lsp-program (micros-test-env "MICROS_LSP")
        micros-source (micros-test-env "MICROS_TEST_SOURCE")
        micros-nixpkgs (micros-test-env "MICROS_TEST_NIXPKGS")
        eglot-sync-connect t)
  (let ((file (car command-line-args-left)))
    (unless file (micros-test-fail "no configuration file given"))
    (find-file file))
  (unless (eq major-mode 'micros-nix-mode)
    (micros-test-fail "the buffer is in %s, not micros-nix-mode" major-mode))

  ;; 1. Start the server eglot-server-programs names for this buffer, with
  ;; no `nix' on its PATH: step 6 turns evaluation on and expects it to
  ;; fail and fall back.
  (let ((process-environment (cons (concat "PATH=" (expand-file-name "no-such-bin"))
                                   process-environment)))
    (apply #'eglot (eglot--guess-contact)))
  (let ((server (micros-test-wait "eglot did not connect" #'eglot-current-server)))
    (micros-test-log "connected %s (%s)" (plist-get (eglot--server-info server) :name)
                     (mapconcat #'identity (process-command (jsonrpc--process server)) " "))
    (unless (equal (plist-get (eglot--server-info server) :name) "micros-lsp")
      (micros-test-fail "eglot started %S, not micros-lsp" (eglot--server-info server))))

  ;; 2. The unknown-option diagnostic arrives through flymake.
  (let* ((gety (+ (micros-test-position "services.gety") (length "services.")))
         (diagnostic
          (micros-test-wait
           "no unknown-option diagnostic for services.gety"
           (lambda ()
             (flymake-start)
             (cl-find-if (lambda (d) (string-match-p "`services.gety` does not exist"
                                                     (flymake-diagnostic-text d)))
                         (flymake-diagnostics))))))
    (unless (= (flymake-diagnostic-beg diagnostic) gety)
      (micros-test-fail "the diagnostic starts at %d, expected %d"
                        (flymake-diagnostic-beg diagnostic) gety))
    (unless (string-match-p "did you mean `services.getty`" (flymake-diagnostic-text diagnostic))
      (micros-test-fail "the diagnostic does not suggest services.getty: %s"
                        (flymake-diagnostic-text diagnostic)))
    (micros-test-log "diagnostic line %d [%s] %s" (line-number-at-pos gety)
                     (flymake-diagnostic-type diagnostic)
                     (car (split-string (flymake-diagnostic-text diagnostic) "\n")))
    (when micros-test-capture
      (goto-char gety)
      (flymake-show-buffer-diagnostics)
      (micros-test-screen "diagnostic")
      (delete-other-windows)))

  ;; 3. Hover, as eldoc asks for it.
  (goto-char (1+ (micros-test-position "ttys")))
  (let (hover)
    (eglot-hover-eldoc-function (lambda (info &rest _) (setq hover (or info ""))))
    (micros-test-wait "no hover answer" (lambda () hover))
    (unless (string-match-p "Terminals to run a login prompt on\\." hover)
      (micros-test-fail "hover on services.getty.ttys does not show its description: %S" hover))
    (micros-test-log "hover on services.getty.ttys: %s ..." (car (split-string hover "\n")))
    (when micros-test-capture
      ;; The hover text eglot formatted, in a window as
      ;; M-x eldoc-doc-buffer would show it.
      (with-current-buffer (get-buffer-create "*eldoc*")
        (let ((inhibit-read-only t))
          (erase-buffer)
          (insert hover)))
      (set-window-point (display-buffer "*eldoc*") 1)
      (micros-test-screen "hover")
      (delete-other-windows)))

  ;; 4. Completion after `services.', typed into the buffer.
  (goto-char (point-max))
  (search-backward "}")
  (insert "  services.\n")
  (backward-char 1)
  (let* ((capf (eglot-completion-at-point))
         (labels (and capf (all-completions "" (nth 2 capf)))))
    (unless (member "getty" labels)
      (micros-test-fail "completion after `services.' does not offer getty; it offers %S" labels))
    (micros-test-log "completion after `services.': %s" (string-join labels ", "))
    (when micros-test-capture
      (completion-at-point)
      (micros-test-screen "completion")))

  ;; 5. Settings changed while running reach the server: without a micros
  ;; tree it stops judging option names; with it again, it judges them.
  (let ((source micros-source)
        (unknown (lambda ()
                   (flymake-start)
                   (cl-some (lambda (d) (string-match-p "`services.gety` does not exist"
                                                        (flymake-diagnostic-text d)))
                            (flymake-diagnostics)))))
    (customize-set-variable 'micros-source (expand-file-name "no-such-micros"))
    (micros-test-wait "the diagnostic is still there after clearing micros-source"
                      (lambda () (not (funcall unknown))))
    (customize-set-variable 'micros-source source)
    (micros-test-wait "no diagnostic after restoring micros-source" unknown)
    (micros-test-log "micros-reconfigure: option checks went off and on again")

    ;; 6. micros-eval reaches the server as true: without Nix it says so
    ;; once and keeps the options extracted without Nix; set back to nil,
    ;; it is sent as false and the server reloads without trying.
    (setq micros-test-said nil)            ; step 5's last load has reported
    (customize-set-variable 'micros-eval t)
    (let ((warned (micros-test-next-load "with micros-eval")))
      (unless (and (= (length warned) 1)
                   (string-match-p "evaluating the options with Nix failed" (car warned)))
        (micros-test-fail "micros-eval without Nix: expected one message saying evaluation failed, got %S"
                          warned))
      (micros-test-wait "no diagnostic from the options extracted without Nix" unknown)
      (micros-test-log "micros-eval without nix: %s" (car warned)))
    (customize-set-variable 'micros-eval nil)
    (let ((quiet (micros-test-next-load "after turning micros-eval off")))
      (when quiet
        (micros-test-fail "turning micros-eval off did not stop evaluation: %S" quiet)))
    (micros-test-log "micros-eval off: the server reloaded without trying Nix"))

  ;; 7. Formatting through eglot: the file with step 4's half-typed line is
  ;; left as it is; without that line, it comes out in alejandra's style.
  (let ((before (buffer-string)))
    (eglot-format-buffer)
    (unless (equal before (buffer-string))
      (micros-test-fail "a file with a syntax error was formatted: %s" (buffer-string))))
  (goto-char (point-min))
  (search-forward "  services.\n")
  (replace-match "")
  (eglot-format-buffer)
  (let ((expected (concat "# The configuration the editor tests open: one known mistake on line 6.\n"
                          "{pkgs, ...}: {\n"
                          "  services.getty.enable = true;\n"
                          "  services.getty.ttys = [\"tty1\"];\n"
                          "  services.gety.extraArgs = \"--noclear\";\n"
                          "  networking.hostName = \"editor-test\";\n"
                          "}\n")))
    (unless (equal (buffer-string) expected)
      (micros-test-fail "after formatting the buffer is:\n%s\nexpected, in alejandra's style:\n%s"
                        (buffer-string) expected))
    (micros-test-log "eglot-format-buffer: the buffer is in alejandra's style")

    ;; 8. eglot-rename on a binding renames it and its use.
    (goto-char (point-min))
    (search-forward "  networking.hostName = \"editor-test\";")
    (replace-match "  networking.hostName = let host = \"editor-test\"; in host;" t t)
    (goto-char (+ (micros-test-position "host =") 1))
    ;; eglot sends changes when Emacs is idle; the rename must see this one.
    (eglot--signal-textDocument/didChange)
    (eglot-rename "machine")
    (let ((renamed (replace-regexp-in-string
                    (regexp-quote "  networking.hostName = \"editor-test\";")
                    "  networking.hostName = let machine = \"editor-test\"; in machine;"
                    expected t t)))
      (unless (equal (buffer-string) renamed)
        (micros-test-fail "after eglot-rename of `host' to `machine' the buffer is:\n%s\nexpected:\n%s"
                          (buffer-string) renamed)))
    (micros-test-log "eglot-rename: the binding `host' and its use are `machine'"))

  (micros-test-log "all checks passed")
  (let ((server (eglot-current-server)))
    (when server (eglot-shutdown server)))
  (kill-emacs 0))

(condition-case err
    (micros-test-run)
  (error (micros-test-fail "%s" (error-message-string err))))

;;; client-test.el ends here
