-- glance_lite behind Apache mod_wsgi: keep the image headers whose names
-- hold an underscore (etc/apache2/glance-lite.conf runs this as a fixups
-- hook, before mod_wsgi builds the WSGI environ).
--
-- mod_wsgi (like Apache for CGI) drops every request header whose name
-- has a character other than a letter, a digit or '-', so that X_Foo
-- cannot pass for X-Foo. Image API v1 clients send underscores:
-- python-glanceclient and the glance CLI name x-image-meta-disk_format,
-- container_format, min_disk, min_ram and properties such as
-- x-image-meta-property-os_distro that way. glance_lite reads '-' and '_'
-- alike in these names (every WSGI server hands both over as the same
-- HTTP_X_IMAGE_META_... variable), so renaming '_' to '-' keeps their
-- meaning. Only x-image-meta-* headers are renamed: any other header with
-- an underscore (X_Roles...) is still dropped by mod_wsgi.

function image_meta_underscores(r)
    local renamed = {}
    for name, value in pairs(r:headers_in_table()) do
        if name:lower():find('^x%-image%-meta%-') and name:find('_', 1, true)
        then
            renamed[name] = value
        end
    end
    for name, value in pairs(renamed) do
        r.headers_in[name] = nil
        r.headers_in[(name:gsub('_', '-'))] = value
    end
    return apache2.DECLINED
end
