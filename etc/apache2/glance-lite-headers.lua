-- glance_lite behind Apache mod_wsgi: the request headers mod_wsgi would
-- drop, and the uploads Apache would otherwise hold. etc/apache2/
-- glance-lite.conf runs image_meta_headers as a fixups hook, before
-- mod_wsgi builds the WSGI environ.
--
-- 1. Header names. mod_wsgi (like Apache for CGI) drops every request
-- header whose name has a character other than a letter, a digit or '-',
-- so that X_Foo cannot pass for X-Foo. Image API v1 clients send others
-- in x-image-meta-* names:
-- - underscores: python-glanceclient and the glance CLI name
--   x-image-meta-disk_format, container_format, min_disk, min_ram and
--   properties such as x-image-meta-property-os_distro that way.
--   glance_lite reads '-' and '_' alike in these names (every WSGI server
--   hands both over as the same HTTP_X_IMAGE_META_... variable), so '_'
--   is renamed '-', which keeps the meaning.
-- - any other character HTTP allows in a name (x-image-meta-property-
--   hw.cpu_model, '%' of a percent-encoded non-ASCII name, '~', '+'...):
--   no renaming keeps those apart, so the header is taken out of the
--   request and carried in a GLANCE_LITE_CARRIED_HEADER_<n> variable of
--   the request's environment ("name:value"), which mod_wsgi passes on and
--   glance-lite.wsgi turns back into the HTTP_... variable every other
--   server gives the application. A client cannot forge such a variable:
--   its headers only ever become HTTP_... variables.
-- Only x-image-meta-* headers are touched: any other header with an
-- underscore (X_Roles...) is still dropped by mod_wsgi.
--
-- 2. Oversized uploads. mod_wsgi in daemon mode passes the whole request
-- body on before it reads the application's answer, so a refusal the
-- application makes from the headers alone (a Content-Length over
-- image_size_cap) would reach the client only after the client sent the
-- whole body, or never. The site passes GLANCE_LITE_IMAGE_SIZE_CAP (keep
-- it equal to image_size_cap); an image create or update announcing more
-- is answered here, with the application's status (400) and message.

local PREFIX = '^x%-image%-meta%-'
local CARRIED = 'GLANCE_LITE_CARRIED_HEADER_'
local IMAGE_PATH = '^/v1/images/?[^/]*$'

local function refuse_oversized(r)
    local cap = r.subprocess_env['GLANCE_LITE_IMAGE_SIZE_CAP'] or ''
    local length = r.headers_in['Content-Length'] or ''
    if not cap:find('^%d+$') or not length:find('^%s*%d+%s*$') then
        return false
    end
    if r.method ~= 'POST' and r.method ~= 'PUT' then
        return false
    end
    if not r.uri:find(IMAGE_PATH) or r.uri:find('^/v1/images/detail') then
        return false
    end
    -- Compared as strings of digits: a Lua number is a double, exact to
    -- 2^53 only.
    local digits = length:match('%d+'):gsub('^0+', '')
    local limit = cap:gsub('^0+', '')
    if #digits < #limit or (#digits == #limit and digits <= limit) then
        return false
    end
    local message = string.format(
        'Denying attempt to upload image larger than %s bytes.', limit)
    local accept = (r.headers_in['Accept'] or ''):lower()
    r.status = 400
    if accept:find('application/json', 1, true) then
        r.content_type = 'application/json'
        r:puts(string.format(
            '{"message": "%s", "code": "400 Bad Request", '
            .. '"title": "Bad Request"}', message))
    else
        r.content_type = 'text/plain; charset=UTF-8'
        r:puts('400 Bad Request\n\n' .. message .. '\n\n   ')
    end
    -- The body is not read: close the connection after the answer.
    r.headers_out['Connection'] = 'close'
    return true
end

function image_meta_headers(r)
    if refuse_oversized(r) then
        return apache2.DONE
    end
    local renamed = {}
    local carried = {}
    for name, value in pairs(r:headers_in_table()) do
        if name:lower():find(PREFIX) then
            if name:find('[^%w%-_]') then
                carried[name] = value
            elseif name:find('_', 1, true) then
                renamed[name] = value
            end
        end
    end
    for name, value in pairs(renamed) do
        r.headers_in[name] = nil
        r.headers_in[(name:gsub('_', '-'))] = value
    end
    local n = 0
    for name, value in pairs(carried) do
        r.headers_in[name] = nil
        n = n + 1
        r.subprocess_env[CARRIED .. n] = name .. ':' .. value
    end
    return apache2.DECLINED
end

-- 3. Answers that name a property in raw UTF-8 (x-image-meta-property-
-- caf\xc3\xa9). glance_lite sends those headers last because Python's
-- http.client (under requests and python-glanceclient) drops every header
-- after the first one whose name is not ASCII. Apache adds its own headers
-- after the application's (Content-Type, Keep-Alive, Connection), so such a
-- client lost Content-Type (python-glanceclient then reads no image data)
-- and a "Connection: close" (it then sent its next request on a closed
-- connection). Run as an output filter, before Apache writes the headers:
-- Content-Type is put in place, the connection is closed after this answer
-- (said before those headers: Apache then adds no Connection header of its
-- own), and the non-ASCII named headers are moved back to the end.
-- The function never yields: mod_lua then takes the filter out of the
-- chain and passes the answer on untouched (a filter that yields would
-- have mod_lua remove the answer's Content-Length and ETag).
function ascii_names_first(r)
    local moved = {}
    for name, value in pairs(r:headers_out_table()) do
        if name:find('[\128-\255]') then
            moved[#moved + 1] = {name, value}
        end
    end
    if #moved > 0 then
        for _, header in ipairs(moved) do
            r.headers_out[header[1]] = nil
        end
        if r.content_type then
            r.headers_out['Content-Type'] = r.content_type
        end
        r.headers_out['Connection'] = 'close'
        for _, header in ipairs(moved) do
            r.headers_out[header[1]] = header[2]
        end
    end
end
