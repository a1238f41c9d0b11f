-- micros-lsp for Neovim 0.7 and later, without dependencies.
--
--   require("micros").setup({
--     settings = { source = "~/src/micros", nixpkgs = "~/src/nixpkgs", eval = false },
--   })
--
-- Starts one `micros-lsp` per project root for `nix` buffers and attaches it.
-- Newer APIs (vim.lsp.start, 0.8) are used when present; on 0.7 the client
-- is started and attached by hand.

local M = {}

local defaults = {
  -- The server command; `micros lsp` works as well.
  cmd = { "micros-lsp" },
  filetypes = { "nix" },
  -- The nearest directory holding one of these is the workspace root; the
  -- server finds the micros input in its flake.lock.
  root_markers = { "flake.nix", "flake.lock", ".git" },
  -- The `micros` settings section: source, nixpkgs, options (paths;
  -- relative ones are taken from the workspace root) and eval (boolean:
  -- evaluate the options with Nix, which runs the flake's code; off unless
  -- set), diagnostics = { generic = false } to leave syntax, name and nil's
  -- lints to nil running beside, formatting = { command = { "nixfmt" } }
  -- for another formatter than the built-in alejandra style.
  settings = {},
  on_attach = nil,
  capabilities = nil,
  autostart = true,
}

M.config = vim.deepcopy(defaults)

local group_name = "micros_lsp"
local warned_missing = false

local function notify(message, level)
  vim.notify("micros: " .. message, level or vim.log.levels.INFO)
end

local path_keys = { "source", "nixpkgs", "options" }
local flag_keys = { "eval" }

-- The section as sent: `~` expanded in paths (the server does not expand
-- them), and every key the server reads present, an unset path as null and
-- an unset flag as false (the server ignores a null flag), so that a key
-- left out of set_settings is cleared in a running server too.
local function expand_settings(settings)
  local out = {}
  for key, value in pairs(settings or {}) do
    out[key] = value
  end
  for _, key in ipairs(path_keys) do
    local value = out[key]
    if type(value) == "string" and value ~= "" then
      out[key] = vim.fn.expand(value)
    elseif value == nil then
      out[key] = vim.NIL
    end
  end
  for _, key in ipairs(flag_keys) do
    if out[key] == nil then
      out[key] = false
    end
  end
  -- The nested settings too, at their defaults when unset.
  local diagnostics = vim.deepcopy(out.diagnostics or {})
  if diagnostics.generic == nil then
    diagnostics.generic = true
  end
  out.diagnostics = diagnostics
  local formatting = vim.deepcopy(out.formatting or {})
  if formatting.command == nil then
    formatting.command = vim.NIL
  end
  out.formatting = formatting
  return out
end

-- A flag that is not a boolean would be ignored by the server; say so.
local function validate_settings(settings)
  for _, key in ipairs(flag_keys) do
    local value = (settings or {})[key]
    if value ~= nil and type(value) ~= "boolean" then
      error(("micros: settings.%s must be true or false, not %s"):format(key, vim.inspect(value)), 3)
    end
  end
end

function M.find_root(path, markers)
  local dir = vim.fn.fnamemodify(path, ":p:h")
  while dir and dir ~= "" do
    for _, marker in ipairs(markers) do
      if vim.loop.fs_stat(dir .. "/" .. marker) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ":h")
    if parent == dir then
      break
    end
    dir = parent
  end
  return nil
end

-- 0.11 turned client functions into methods (client:stop()); before, they
-- were closures called with a dot.
local methods = vim.fn.has("nvim-0.11") == 1
local function call(client, method, ...)
  if methods then
    return client[method](client, ...)
  end
  return client[method](...)
end

-- Clients of ours that are still running.
local function clients()
  local get = vim.lsp.get_clients or vim.lsp.get_active_clients
  local found = {}
  for _, client in ipairs(get()) do
    if client.name == "micros-lsp" and not call(client, "is_stopped") then
      table.insert(found, client)
    end
  end
  return found
end
M.clients = clients

local function client_config(root)
  local cfg = M.config
  local section = expand_settings(cfg.settings)
  local capabilities = cfg.capabilities or vim.lsp.protocol.make_client_capabilities()
  return {
    name = "micros-lsp",
    cmd = cfg.cmd,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
    -- Both: the server reads initializationOptions at start and the
    -- didChangeConfiguration Neovim sends with `settings` after initialize.
    init_options = { micros = section },
    settings = { micros = section },
    capabilities = capabilities,
    on_attach = function(client, bufnr)
      -- Neovim before 0.10 does not set omnifunc for LSP buffers.
      if vim.bo[bufnr].omnifunc == "" then
        vim.bo[bufnr].omnifunc = "v:lua.vim.lsp.omnifunc"
      end
      if cfg.on_attach then
        cfg.on_attach(client, bufnr)
      end
    end,
  }
end

--- Start (or reuse) the server for `bufnr` and attach it. Returns the client id.
function M.attach(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == "" or vim.bo[bufnr].buftype ~= "" then
    return nil
  end
  local cmd = M.config.cmd
  if vim.fn.executable(cmd[1]) ~= 1 then
    if not warned_missing then
      warned_missing = true
      notify(
        ("cannot start the language server: `%s` is not an executable; "
          .. "put micros-lsp on PATH or pass setup({ cmd = { '/path/to/micros-lsp' } })"):format(cmd[1]),
        vim.log.levels.WARN
      )
    end
    return nil
  end
  local root = M.find_root(name, M.config.root_markers) or vim.fn.fnamemodify(name, ":p:h")
  local config = client_config(root)
  if vim.lsp.start then
    -- 0.8+: reuses a client with the same name and root, and attaches to
    -- the current buffer.
    return vim.api.nvim_buf_call(bufnr, function()
      return vim.lsp.start(config, { bufnr = bufnr })
    end)
  end
  for _, client in ipairs(clients()) do
    if client.config.root_dir == root then
      vim.lsp.buf_attach_client(bufnr, client.id)
      return client.id
    end
  end
  local id = vim.lsp.start_client(config)
  if id then
    vim.lsp.buf_attach_client(bufnr, id)
  end
  return id
end

local function matching_buffers()
  local found = {}
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(M.config.filetypes, vim.bo[bufnr].filetype) then
      table.insert(found, bufnr)
    end
  end
  return found
end

--- Change the `micros` settings; running servers are told at once.
function M.set_settings(settings)
  validate_settings(settings)
  M.config.settings = settings or {}
  local section = expand_settings(M.config.settings)
  for _, client in ipairs(clients()) do
    client.config.settings = { micros = section }
    call(client, "notify", "workspace/didChangeConfiguration", { settings = { micros = section } })
  end
end

--- Stop our servers and start them again for every open Nix buffer.
function M.restart()
  local running = clients()
  for _, client in ipairs(running) do
    call(client, "stop")
  end
  local buffers = matching_buffers()
  -- Wait (bounded) for the old processes to exit before starting anew.
  vim.wait(3000, function()
    for _, client in ipairs(running) do
      if not call(client, "is_stopped") then
        return false
      end
    end
    return true
  end, 50)
  for _, bufnr in ipairs(buffers) do
    M.attach(bufnr)
  end
end

--- One line per running server: root, command, settings.
function M.status()
  local lines = {}
  for _, client in ipairs(clients()) do
    table.insert(
      lines,
      ("micros-lsp #%d root=%s cmd=%s settings=%s"):format(
        client.id,
        client.config.root_dir or "?",
        table.concat(client.config.cmd, " "),
        vim.inspect(client.config.settings and client.config.settings.micros or {}, { newline = " ", indent = "" })
      )
    )
  end
  if #lines == 0 then
    table.insert(lines, "micros-lsp is not running")
  end
  return lines
end

function M.setup(opts)
  opts = opts or {}
  vim.validate({
    cmd = { opts.cmd, "table", true },
    filetypes = { opts.filetypes, "table", true },
    root_markers = { opts.root_markers, "table", true },
    settings = { opts.settings, "table", true },
    on_attach = { opts.on_attach, "function", true },
  })
  validate_settings(opts.settings)
  M.config = vim.tbl_deep_extend("force", vim.deepcopy(defaults), opts)
  -- Lists replace the defaults rather than merging index by index.
  for _, key in ipairs({ "cmd", "filetypes", "root_markers" }) do
    if opts[key] then
      M.config[key] = opts[key]
    end
  end
  warned_missing = false

  local group = vim.api.nvim_create_augroup(group_name, { clear = true })
  if M.config.autostart then
    vim.api.nvim_create_autocmd("FileType", {
      group = group,
      pattern = M.config.filetypes,
      callback = function(args)
        M.attach(args.buf)
      end,
      desc = "start micros-lsp",
    })
    -- Buffers opened before setup ran.
    for _, bufnr in ipairs(matching_buffers()) do
      M.attach(bufnr)
    end
  end

  vim.api.nvim_create_user_command("MicrosRestart", function()
    M.restart()
  end, { desc = "Restart micros-lsp" })
  vim.api.nvim_create_user_command("MicrosStatus", function()
    for _, line in ipairs(M.status()) do
      print(line)
    end
  end, { desc = "Show micros-lsp status" })
end

return M
