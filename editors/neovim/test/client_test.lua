-- Real-client test: Neovim with the plugin against micros-lsp.
--
--   MICROS_LSP=... MICROS_TEST_SOURCE=... MICROS_TEST_NIXPKGS=... \
--     nvim --headless -u NONE -c "luafile client_test.lua" configuration.nix
--
-- The server learns where the option sources are only through the plugin's
-- settings. Exits 0 when every check passes, 1 with a message otherwise.
-- With MICROS_TEST_CAPTURE=<file> inside tmux, it also records the screen
-- (diagnostic, hover, completion) into that file.

local plugin_dir = vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h:h")
vim.opt.runtimepath:prepend(plugin_dir)
vim.cmd("filetype on")

local timeout = tonumber(os.getenv("MICROS_TEST_TIMEOUT_MS") or "") or 30000
local capture_file = os.getenv("MICROS_TEST_CAPTURE")
local started = vim.loop.hrtime()

local function elapsed_ms()
  return math.floor((vim.loop.hrtime() - started) / 1e6)
end

-- Under a UI the terminal is Neovim's: report into a file beside the capture.
local function write(stream, text)
  if capture_file then
    local out = io.open(capture_file .. ".log", "a")
    out:write(text)
    out:close()
  else
    stream:write(text)
    stream:flush()
  end
end

local function log(message)
  write(io.stdout, ("[%5d ms] %s\n"):format(elapsed_ms(), message))
end

local function fail(message)
  local version = vim.version()
  write(io.stderr, ("\nFAIL (neovim %d.%d.%d): %s\n"):format(version.major, version.minor, version.patch, message))
  vim.cmd("cquit 1")
end

local function require_env(name)
  local value = os.getenv(name)
  if not value or value == "" then
    fail("set " .. name)
  end
  return value
end

local function capture(title)
  if not capture_file or not os.getenv("TMUX_PANE") then
    return
  end
  vim.cmd("redraw!")
  -- The UI draws on its own thread; let it reach the terminal.
  vim.wait(300)
  local screen = vim.fn.system({ "tmux", "capture-pane", "-p", "-t", os.getenv("TMUX_PANE") })
  local out = io.open(capture_file, "a")
  out:write("--- " .. title .. "\n" .. screen:gsub("%s+\n", "\n"):gsub("\n+$", "") .. "\n")
  out:close()
end

-- The server's messages in order, kept off the screen (the recorded screens
-- stay as they are): warnings (showMessage) come before the summary line
-- (logMessage) of the option load they belong to.
local said = {}
vim.lsp.handlers["window/showMessage"] = function(_, result)
  table.insert(said, { shown = true, message = result.message })
end
vim.lsp.handlers["window/logMessage"] = function(_, result)
  table.insert(said, { shown = false, message = result.message })
end

-- The warnings shown up to the next option load's summary, which it consumes.
local function next_load(what)
  local shown
  if not vim.wait(timeout, function()
    for i, entry in ipairs(said) do
      if not entry.shown and entry.message:find("options", 1, true) then
        shown = {}
        for j = 1, i - 1 do
          if said[j].shown then
            table.insert(shown, said[j].message)
          end
        end
        for _ = 1, i do
          table.remove(said, 1)
        end
        return true
      end
    end
    return false
  end, 50) then
    fail("no option load " .. what .. " within " .. timeout .. " ms; the server said: " .. vim.inspect(said))
  end
  return shown
end

local ok, err = pcall(function()
  local micros = require("micros")
  micros.setup({
    -- No `nix` on the server's PATH: step 6 turns evaluation on and
    -- expects it to fail and fall back.
    cmd = { "env", "PATH=" .. vim.fn.getcwd() .. "/no-such-bin", require_env("MICROS_LSP") },
    settings = {
      source = require_env("MICROS_TEST_SOURCE"),
      nixpkgs = require_env("MICROS_TEST_NIXPKGS"),
    },
  })
  local bufnr = vim.api.nvim_get_current_buf()
  if vim.bo[bufnr].filetype ~= "nix" then
    vim.cmd("edit")
  end
  if vim.bo[bufnr].filetype ~= "nix" then
    fail("the buffer's filetype is '" .. vim.bo[bufnr].filetype .. "', not 'nix'")
  end
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)

  local function find(pattern)
    for i, line in ipairs(lines) do
      local col = line:find(pattern, 1, true)
      if col then
        return i - 1, col - 1
      end
    end
    fail("the fixture has no `" .. pattern .. "`")
  end

  local function attached()
    local get = vim.lsp.get_clients and function()
      return vim.lsp.get_clients({ bufnr = bufnr })
    end or function()
      return vim.tbl_values(vim.lsp.buf_get_clients(bufnr))
    end
    for _, client in ipairs(get()) do
      if client.name == "micros-lsp" and client.initialized ~= false then
        return client
      end
    end
  end

  local function unknown_option()
    for _, d in ipairs(vim.diagnostic.get(bufnr)) do
      local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
      if d.message:find("services.gety", 1, true) and d.message:find("does not exist", 1, true) then
        return d, code
      end
    end
  end

  local function diagnostics_text()
    local out = {}
    for _, d in ipairs(vim.diagnostic.get(bufnr)) do
      table.insert(out, ("%d:%d %s"):format(d.lnum + 1, d.col + 1, d.message))
    end
    return #out > 0 and table.concat(out, "; ") or "none"
  end

  -- 1. The server starts and attaches.
  if not vim.wait(timeout, function()
    return attached() ~= nil
  end, 50) then
    fail("micros-lsp did not attach within " .. timeout .. " ms")
  end
  local client = attached()
  log("attached micros-lsp (client " .. client.id .. ")")

  -- 2. The unknown-option diagnostic arrives, where the mistake is.
  local gety_line, gety_col = find("services.gety")
  if not vim.wait(timeout, function()
    return unknown_option() ~= nil
  end, 50) then
    fail("no unknown-option diagnostic for services.gety within " .. timeout .. " ms; diagnostics: " .. diagnostics_text())
  end
  local diagnostic, code = unknown_option()
  if diagnostic.lnum ~= gety_line or diagnostic.col ~= gety_col + #"services." then
    fail(("the diagnostic is at %d:%d, expected %d:%d"):format(diagnostic.lnum, diagnostic.col, gety_line, gety_col + #"services."))
  end
  if code ~= nil and code ~= "unknown-option" then
    fail("the diagnostic's code is " .. tostring(code) .. ", expected unknown-option")
  end
  if not diagnostic.message:find("did you mean `services.getty`", 1, true) then
    fail("the diagnostic does not suggest services.getty: " .. diagnostic.message)
  end
  log(("diagnostic %d:%d [%s] %s"):format(diagnostic.lnum + 1, diagnostic.col + 1, tostring(code or "?"), diagnostic.message))
  vim.api.nvim_win_set_cursor(0, { gety_line + 1, gety_col })
  capture("diagnostic")

  -- 3. Hover on an option shows its description.
  local ttys_line, ttys_col = find("ttys")
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = { line = ttys_line, character = ttys_col + 1 },
  }
  local responses, request_err = vim.lsp.buf_request_sync(bufnr, "textDocument/hover", params, timeout)
  if not responses then
    fail("hover failed: " .. tostring(request_err))
  end
  local hover_text
  for _, response in pairs(responses) do
    if response.result and response.result.contents then
      local contents = response.result.contents
      hover_text = type(contents) == "string" and contents or contents.value
    end
  end
  if not hover_text or not hover_text:find("Terminals to run a login prompt on.", 1, true) then
    fail("hover on services.getty.ttys does not show its description: " .. vim.inspect(hover_text))
  end
  if not hover_text:find("list of string", 1, true) then
    fail("hover on services.getty.ttys does not show its type: " .. hover_text)
  end
  log("hover on services.getty.ttys: " .. hover_text:gsub("\n.*", "") .. " ...")
  if capture_file then
    vim.api.nvim_win_set_cursor(0, { ttys_line + 1, ttys_col + 1 })
    vim.lsp.buf.hover()
    local function float()
      for _, win in ipairs(vim.api.nvim_list_wins()) do
        if vim.api.nvim_win_get_config(win).relative ~= "" then
          return win
        end
      end
    end
    vim.wait(timeout, function()
      return float() ~= nil
    end, 50)
    capture("hover")
    vim.api.nvim_win_close(float(), true)
  end

  -- 4. Completion after `services.` offers getty, on a line typed into the
  -- buffer (the edit reaches the server as didChange).
  local last = #lines - 1
  vim.api.nvim_buf_set_lines(bufnr, last, last, false, { "  services." })
  local completion_params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = { line = last, character = #"  services." },
  }
  local labels = {}
  local found = vim.wait(timeout, function()
    local result = vim.lsp.buf_request_sync(bufnr, "textDocument/completion", completion_params, timeout)
    labels = {}
    for _, response in pairs(result or {}) do
      local items = response.result and (response.result.items or response.result) or {}
      for _, item in ipairs(items) do
        table.insert(labels, item.label)
      end
    end
    return vim.tbl_contains(labels, "getty")
  end, 200)
  if not found then
    fail("completion after `services.` does not offer getty; it offers: " .. vim.inspect(labels))
  end
  log("completion after `services.`: " .. table.concat(labels, ", "))

  -- 5. set_settings reaches the running server: without a micros tree it
  -- stops judging option names; with it again, it judges them.
  local settings = vim.deepcopy(micros.config.settings)
  micros.set_settings(vim.tbl_extend("force", settings, { source = vim.fn.getcwd() .. "/no-such-micros" }))
  if not vim.wait(timeout, function()
    return unknown_option() == nil
  end, 50) then
    fail("the diagnostic is still there after set_settings cleared the micros tree")
  end
  micros.set_settings(settings)
  if not vim.wait(timeout, function()
    return unknown_option() ~= nil
  end, 50) then
    fail("no diagnostic after set_settings restored the micros tree; diagnostics: " .. diagnostics_text())
  end
  log("set_settings: option checks went off and on again")

  -- 6. eval = true reaches the server as a boolean: without Nix it says so
  -- once and keeps the options extracted without Nix; dropped from the
  -- settings, it is sent as false and the server reloads without trying.
  -- Step 5's last load has reported: its diagnostic is back.
  said = {}
  micros.set_settings(vim.tbl_extend("force", settings, { eval = true }))
  local warned = next_load("with eval = true")
  if #warned ~= 1 or not warned[1]:find("evaluating the options with Nix failed", 1, true) then
    fail("eval = true without Nix: expected one message saying evaluation failed, got " .. vim.inspect(warned))
  end
  if not vim.wait(timeout, function()
    return unknown_option() ~= nil
  end, 50) then
    fail("no diagnostic from the options extracted without Nix; diagnostics: " .. diagnostics_text())
  end
  log("eval = true without nix: " .. warned[1])
  micros.set_settings(settings)
  local quiet = next_load("after dropping eval")
  if #quiet ~= 0 then
    fail("dropping eval did not turn evaluation off: " .. vim.inspect(quiet))
  end
  log("eval dropped: the server reloaded without trying Nix")

  -- 7. :MicrosRestart brings up a new server that publishes again.
  local old_id = client.id
  vim.cmd("MicrosRestart")
  if not vim.wait(timeout, function()
    local now = attached()
    return now ~= nil and now.id ~= old_id
  end, 50) then
    fail(":MicrosRestart did not attach a new server within " .. timeout .. " ms")
  end
  log("restarted: client " .. attached().id)
  vim.diagnostic.reset(nil, bufnr)
  if not vim.wait(timeout, function()
    return unknown_option() ~= nil
  end, 50) then
    fail("no diagnostics from the restarted server; diagnostics: " .. diagnostics_text())
  end
  log("the restarted server published the diagnostic again")

  -- 8. Formatting: refused while step 4's `services.` line breaks the file
  -- (with a message), then, without it, the buffer is exactly the fixture
  -- in alejandra's style.
  client = attached()
  local function format()
    local result = vim.lsp.buf_request_sync(bufnr, "textDocument/formatting", {
      textDocument = { uri = vim.uri_from_bufnr(bufnr) },
      options = { tabSize = 2, insertSpaces = true },
    }, timeout)
    for _, response in pairs(result or {}) do
      if response.error then
        fail("formatting failed: " .. vim.inspect(response.error))
      end
      return response.result
    end
    fail("no answer to textDocument/formatting within " .. timeout .. " ms")
  end
  said = {}
  if format() ~= nil then
    fail("a file with a syntax error was formatted")
  end
  if not vim.wait(timeout, function()
    for _, entry in ipairs(said) do
      if entry.shown and entry.message:find("not formatted", 1, true) then
        return true
      end
    end
    return false
  end, 50) then
    fail("no message saying why the file was not formatted: " .. vim.inspect(said))
  end
  local typed = vim.api.nvim_buf_line_count(bufnr) - 2
  vim.api.nvim_buf_set_lines(bufnr, typed, typed + 1, false, {})
  local edits = format()
  if not edits or #edits == 0 then
    fail("formatting gave no edits for the fixture")
  end
  vim.lsp.util.apply_text_edits(edits, bufnr, client.offset_encoding or "utf-16")
  local function buffer_text()
    return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n") .. "\n"
  end
  local expected = table.concat({
    "# The configuration the editor tests open: one known mistake on line 6.",
    "{pkgs, ...}: {",
    "  services.getty.enable = true;",
    '  services.getty.ttys = ["tty1"];',
    '  services.gety.extraArgs = "--noclear";',
    '  networking.hostName = "editor-test";',
    "}",
    "",
  }, "\n")
  if buffer_text() ~= expected then
    fail("after formatting the buffer is:\n" .. buffer_text() .. "\nexpected, in alejandra's style:\n" .. expected)
  end
  log("formatted: " .. #edits .. " edit(s), the buffer is in alejandra's style")

  -- 9. Rename a binding: the edit the server sends renames it and its use.
  local host_line
  for i, line in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
    if line:find("networking.hostName", 1, true) then
      host_line = i - 1
    end
  end
  vim.api.nvim_buf_set_lines(bufnr, host_line, host_line + 1, false, {
    '  networking.hostName = let host = "editor-test"; in host;',
  })
  local rename_position = { line = host_line, character = #"  networking.hostName = let h" }
  local rename_edit
  if not vim.wait(timeout, function()
    local result = vim.lsp.buf_request_sync(bufnr, "textDocument/rename", {
      textDocument = { uri = vim.uri_from_bufnr(bufnr) },
      position = rename_position,
      newName = "machine",
    }, timeout)
    for _, response in pairs(result or {}) do
      if response.error then
        fail("rename failed: " .. vim.inspect(response.error))
      end
      rename_edit = response.result
    end
    return rename_edit ~= nil
  end, 100) then
    fail("no answer to textDocument/rename within " .. timeout .. " ms")
  end
  vim.lsp.util.apply_workspace_edit(rename_edit, client.offset_encoding or "utf-16")
  local renamed = expected:gsub('  networking.hostName = "editor%-test";',
    '  networking.hostName = let machine = "editor-test"; in machine;')
  if buffer_text() ~= renamed then
    fail("after renaming `host` to `machine` the buffer is:\n" .. buffer_text() .. "\nexpected:\n" .. renamed)
  end
  log("renamed the binding `host` to `machine`, and its use")
  -- The line step 4 typed, back for the recorded completion below.
  vim.api.nvim_buf_set_lines(bufnr, typed, typed, false, { "  services." })
end)

if not ok then
  fail(tostring(err))
end

log("all checks passed")
if capture_file and os.getenv("TMUX_PANE") then
  -- Completion as a person sees it: append to the `services.` line step 4
  -- typed and ask for omni completion (the plugin sets omnifunc); capture
  -- once the menu is up.
  vim.o.completeopt = "menuone,noinsert"
  vim.api.nvim_win_set_cursor(0, { vim.api.nvim_buf_line_count(0) - 1, 0 })
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes("A<C-x><C-o>", true, false, true), "n", false)
  local function wait_for_menu(tries)
    if vim.fn.pumvisible() == 1 or tries == 0 then
      capture("completion")
      vim.cmd("qall!")
    else
      vim.defer_fn(function()
        wait_for_menu(tries - 1)
      end, 100)
    end
  end
  vim.defer_fn(function()
    wait_for_menu(100)
  end, 100)
else
  vim.cmd("qall!")
end
