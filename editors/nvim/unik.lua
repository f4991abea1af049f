-- unik.lua: `.unik` files in Neovim (0.7 or later), with `unikc lsp`.
--
-- Copy this file to ~/.config/nvim/lua/unik.lua and add to init.lua:
--
--   require("unik").setup()                      -- unikc on PATH
--   require("unik").setup({ cmd = { "/path/to/unikc", "lsp" } })
--
-- Diagnostics, hover (K), go to definition (gd), completion (<C-x><C-o>),
-- formatting and document symbols then work through Neovim's LSP client.

local M = {}

-- The directory of the configuration: the nearest one holding config.unik,
-- else the file's own.
local function root_of(file)
  local dir = vim.fn.fnamemodify(file, ":p:h")
  local found = vim.fn.findfile("config.unik", dir .. ";")
  if found ~= "" then
    return vim.fn.fnamemodify(found, ":p:h")
  end
  return dir
end

local function keymaps(buf)
  local opts = { buffer = buf, silent = true }
  if vim.keymap and vim.keymap.set then
    vim.keymap.set("n", "K", vim.lsp.buf.hover, opts)
    vim.keymap.set("n", "gd", vim.lsp.buf.definition, opts)
  end
  vim.bo[buf].omnifunc = "v:lua.vim.lsp.omnifunc"
end

local clients = {}

function M.start(buf, opts)
  local file = vim.api.nvim_buf_get_name(buf)
  if file == "" then
    return
  end
  local root = root_of(file)
  local config = {
    name = "unikc",
    cmd = opts.cmd,
    root_dir = root,
    on_attach = function(_, b)
      keymaps(b)
    end,
  }
  if vim.lsp.start then
    vim.lsp.start(config, { bufnr = buf })
    return
  end
  -- Neovim 0.7: one client per root, attached by hand.
  if not clients[root] then
    clients[root] = vim.lsp.start_client(config)
  end
  vim.lsp.buf_attach_client(buf, clients[root])
end

function M.setup(opts)
  opts = opts or {}
  opts.cmd = opts.cmd or { "unikc", "lsp" }
  local group = vim.api.nvim_create_augroup("unik", { clear = true })
  vim.api.nvim_create_autocmd({ "BufRead", "BufNewFile" }, {
    group = group,
    pattern = "*.unik",
    callback = function(ev)
      vim.bo[ev.buf].filetype = "unik"
    end,
  })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = "unik",
    callback = function(ev)
      vim.bo[ev.buf].commentstring = "# %s"
      M.start(ev.buf, opts)
    end,
  })
end

return M
