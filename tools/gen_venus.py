#!/usr/bin/env python3
"""Generates the Venus renderer's protocol tables from vk.xml.

Inputs: the pinned vk.xml, tools/venus/venus_protocol.xml (the two
Venus-only extensions in vk.xml schema), tools/venus/command_types.txt
(VkCommandTypeEXT ids) and tools/venus/extensions.txt (candidate protocol
extensions).

Outputs (in the output directory):
  vn_gen.h         command ids, handle types, Venus-only types, argument
                   structs, function-pointer tables, table declarations
  vn_gen_types.c   struct/union descriptors and the sType table
  vn_gen_cmds<N>.c command descriptors and call thunks, split in parts
  vn_gen_misc.c    dispatch table, proc-address loaders, extension table,
                   per-type destroy calls

The renderer decodes and encodes with one table-driven codec
(src/venus/vn_codec.c), so every command and struct the protocol carries is
described here and nothing is decoded by hand. Python 3 stdlib only.
"""
import os
import re
import sys
import xml.etree.ElementTree as ET

CMD_PARTS = 3

# Types with a fixed wire size: (codec kind, C type). Kinds: U8/U16/U32/U64
# are scalars padded to 4 bytes on the wire (arrays are packed then padded).
SCALARS = {
    'uint8_t': 'U8', 'int8_t': 'U8', 'uint16_t': 'U16', 'int16_t': 'U16',
    'uint32_t': 'U32', 'int32_t': 'U32', 'float': 'U32',
    'uint64_t': 'U64', 'int64_t': 'U64', 'double': 'U64', 'size_t': 'U64',
    'VkBool32': 'U32', 'VkSampleMask': 'U32', 'VkFlags': 'U32',
    'VkFlags64': 'U64', 'VkDeviceSize': 'U64', 'VkDeviceAddress': 'U64',
}

# Commands a guest driver implements on its own (they take host pointers),
# so their absence does not keep an extension out of the protocol.
GUEST_SIDE = {'vkUpdateDescriptorSetWithTemplate', 'vkCmdPushDescriptorSetWithTemplate',
              'vkCmdPushDescriptorSetWithTemplate2', 'vkMapMemory', 'vkMapMemory2'}

# Host commands the renderer itself calls that the protocol does not carry.
RENDERER_DEVICE_FNS = ['vkGetMemoryHostPointerPropertiesEXT', 'vkGetMemoryFdKHR',
                       'vkImportSemaphoreFdKHR', 'vkGetSemaphoreFdKHR']

# Extensions the protocol never carries even when listed: they move host
# fds or host pointers, or name window-system objects.
NEVER_EXT = re.compile(r'_(fd|win32|android|metal|fuchsia|xlib|xcb|wayland|'
                       r'screen|directfb|ggp|vi|ios|macos|headless|display|'
                       r'surface|swapchain)(_|$)|external_memory_host|'
                       r'VK_KHR_display|VK_EXT_acquire|acceleration_structure|'
                       r'ray_tracing|ray_query|deferred_host_operations',
                       re.I)


def die(msg):
    sys.stderr.write('gen_venus.py: %s\n' % msg)
    sys.exit(1)


class Member:
    def __init__(self, el):
        self.name = el.find('name').text
        self.type = el.find('type').text
        text = el.text or ''
        for ch in el:
            if ch.tag != 'comment':
                text += ''.join(ch.itertext())
            text += ch.tail or ''
        decl = text.split(self.name)[0]
        tail = text[len(decl) + len(self.name):]
        self.const = 'const' in decl
        self.ptr = decl.count('*')
        self.optional = (el.get('optional') or '').split(',')[0] == 'true'
        self.len = el.get('altlen') or el.get('len')
        if el.get('altlen') is None and self.len and 'latexmath' in self.len:
            self.len = None
        self.fixed = None
        m = re.search(r'\[([^\]]+)\]', tail)
        if m:
            enum = el.find('enum')
            self.fixed = enum.text if enum is not None else m.group(1)
            if tail.count('[') > 1:
                self.fixed = 'MULTI'
        self.values = el.get('values')
        self.bitfield = ':' in tail and '[' not in tail
        self.api = el.get('api')


class Registry:
    def __init__(self, paths):
        self.types = {}       # name -> element
        self.aliases = {}     # alias -> target (types)
        self.cmds = {}        # name -> element
        self.cmd_alias = {}   # alias -> target
        self.handles = {}     # name -> (dispatchable, parent)
        self.exts = {}        # name -> element
        self.features = []
        self.enum_consts = {}
        for p in paths:
            self.load(ET.parse(p).getroot())

    def load(self, root):
        for t in [x for ts in root.findall('types') for x in ts.findall('type')]:
            if t.get('api') == 'vulkansc':
                continue
            cat = t.get('category')
            name = t.get('name') or (t.find('name').text if t.find('name') is not None else None)
            if not name:
                continue
            if t.get('alias'):
                self.aliases[name] = t.get('alias')
                continue
            self.types[name] = t
            if cat == 'handle':
                self.handles[name] = ('VK_DEFINE_HANDLE' in ''.join(t.itertext())
                                      and 'NON_DISPATCHABLE' not in ''.join(t.itertext()),
                                      t.get('parent'))
        for cmds in root.iter('commands'):
            for c in cmds.findall('command'):
                if c.get('api') == 'vulkansc':
                    continue
                if c.get('alias'):
                    self.cmd_alias[c.get('name')] = c.get('alias')
                    continue
                self.cmds[c.find('proto/name').text] = c
        for e in root.iter('enums'):
            if e.get('name') == 'API Constants':
                for v in e.findall('enum'):
                    self.enum_consts[v.get('name')] = v.get('value') or v.get('alias')
        for f in root.findall('feature'):
            if 'vulkan' in f.get('api', 'vulkan').split(','):
                self.features.append(f)
        for e in root.iter('extension'):
            self.exts[e.get('name')] = e

    def resolve(self, name):
        while name in self.aliases:
            name = self.aliases[name]
        return name

    def resolve_cmd(self, name):
        while name in self.cmd_alias:
            name = self.cmd_alias[name]
        return name


class Gen:
    def __init__(self, reg, ids, ext_names):
        self.reg = reg
        self.ids = ids
        self.support = {}        # type name -> bool
        self.struct_order = []   # carried struct/union names
        self.struct_index = {}
        self.notes = []
        self.handle_list = sorted(reg.handles)
        self.handle_index = {h: i + 1 for i, h in enumerate(self.handle_list)}
        self.required_types = set()
        self.required_cmds = set()
        self.exts = []           # (name, number, spec)
        self.mesa_types = set()
        self.collect(ext_names)

    # -- what the protocol covers -------------------------------------
    def collect(self, ext_names):
        reg = self.reg
        for f in reg.features:
            for r in f.findall('require'):
                if r.get('api') == 'vulkansc':
                    continue
                for t in r.findall('type'):
                    self.required_types.add(reg.resolve(t.get('name')))
                for c in r.findall('command'):
                    self.required_cmds.add(reg.resolve_cmd(c.get('name')))
        for name in ext_names:
            e = reg.exts.get(name)
            if e is None:
                self.notes.append('extension %s: not in vk.xml 1.4.309, dropped' % name)
                continue
            if e.get('platform') or e.get('supported') in ('disabled',) or \
                    'vulkan' not in (e.get('supported') or '').split(','):
                self.notes.append('extension %s: platform/unsupported, dropped' % name)
                continue
            if NEVER_EXT.search(name) and name not in ('VK_KHR_external_memory_fd',
                                                        'VK_KHR_external_semaphore_fd',
                                                        'VK_KHR_external_fence_fd'):
                self.notes.append('extension %s: not serializable, dropped' % name)
                continue
            spec = 1
            for r in e.findall('require'):
                for en in r.findall('enum'):
                    if en.get('name', '').endswith('_SPEC_VERSION') and en.get('value'):
                        spec = int(en.get('value'))
            cmds = []
            bad = None
            for r in e.findall('require'):
                for c in r.findall('command'):
                    cn = reg.resolve_cmd(c.get('name'))
                    if cn in reg.cmds and not self.cmd_ok(cn)[0] and not name.endswith('_fd') \
                            and cn not in GUEST_SIDE:
                        bad = cn
            if bad:
                self.notes.append('extension %s: command %s not serializable, dropped' % (name, bad))
                continue
            for r in e.findall('require'):
                if r.get('api') == 'vulkansc':
                    continue
                for t in r.findall('type'):
                    self.required_types.add(reg.resolve(t.get('name')))
                for c in r.findall('command'):
                    cmds.append(reg.resolve_cmd(c.get('name')))
            self.required_cmds.update(cmds)
            self.exts.append((name, int(e.get('number')), spec))
        for t in list(self.required_types):
            self.type_ok(t)

    def kind_of(self, tname):
        tname = self.reg.resolve(tname)
        if tname in SCALARS:
            return SCALARS[tname]
        el = self.reg.types.get(tname)
        if el is None:
            return None
        cat = el.get('category')
        if cat == 'enum':
            return 'U32'
        if cat == 'bitmask':
            base = el.find('type').text
            return 'U64' if base == 'VkFlags64' else 'U32'
        if cat == 'handle':
            return 'HANDLE'
        if cat in ('struct', 'union'):
            return 'STRUCT' if cat == 'struct' else 'UNION'
        if cat == 'basetype':
            t = el.find('type')
            if t is not None and t.text in SCALARS and '*' not in ''.join(el.itertext()):
                return SCALARS[t.text]
        return None

    def members(self, sname):
        el = self.reg.types[self.reg.resolve(sname)]
        return [Member(m) for m in el.findall('member') if m.get('api') != 'vulkansc']

    def type_ok(self, tname, stack=()):
        tname = self.reg.resolve(tname)
        if tname in self.support:
            return self.support[tname]
        k = self.kind_of(tname)
        if k not in ('STRUCT', 'UNION'):
            return k is not None
        if tname in stack:
            return True
        self.support[tname] = True  # provisional, for self-reference
        ok = True
        mems = self.members(tname)
        for m in mems:
            if not self.member_ok(m, mems, stack + (tname,)):
                ok = False
                self.notes.append('struct %s: member %s not serializable' % (tname, m.name))
                break
        self.support[tname] = ok
        if ok:
            self.struct_index[tname] = len(self.struct_order)
            self.struct_order.append(tname)
        return ok

    def member_ok(self, m, siblings, stack):
        if m.bitfield or m.fixed == 'MULTI':
            return False
        if m.name == 'pNext' and m.type == 'void':
            return True
        if m.type == 'void':
            return m.ptr == 1 and m.len is not None and self.len_ok(m.len, siblings)
        if m.type == 'char':
            if m.fixed:
                return True
            if m.ptr == 1 and m.len and 'null-terminated' in m.len:
                return True
            if m.ptr == 2 and m.len and m.len.endswith('null-terminated'):
                return self.len_ok(m.len.split(',')[0], siblings)
            return False
        k = self.kind_of(m.type)
        if k is None:
            return False
        if k in ('STRUCT', 'UNION') and not self.type_ok(m.type, stack):
            return False
        if m.ptr == 0:
            return True
        if m.ptr > 1:
            return False
        if m.len is None:
            return True
        return self.len_ok(m.len, siblings)

    def len_ok(self, ln, siblings):
        parts = ln.split(',')
        if len(parts) > 1 and parts[1] != 'null-terminated':
            return False
        ln = parts[0]
        names = [s.name for s in siblings]
        if ln in names:
            return True
        if ln in ('codeSize / 4', '(rasterizationSamples + 31) / 32', '(samples + 31) / 32'):
            return ln.split()[0].strip('(') in names
        m = re.match(r'^(\w+)->(\w+)$', ln.replace('&gt;', '>'))
        if m and m.group(1) in names:
            return True
        return False

    def cmd_ok(self, name):
        c = self.reg.cmds[name]
        params = [Member(p) for p in c.findall('param') if p.get('api') != 'vulkansc']
        ret = c.find('proto/type').text
        if ret not in ('void', 'VkResult', 'VkBool32', 'uint32_t', 'uint64_t', 'VkDeviceAddress',
                       'VkDeviceSize'):
            return False, 'return type %s' % ret
        for p in params:
            if p.name == 'pAllocator':
                continue
            if not self.member_ok(p, params, ()):
                return False, 'param %s' % p.name
        return True, None

    # -- field descriptors --------------------------------------------
    def field(self, m, siblings, container, is_param):
        """Returns the C initializer of one vn_field."""
        names = [s.name for s in siblings]
        off = 'offsetof(%s, %s)' % (container, m.name)
        flags = []
        if m.const:
            flags.append('VN_F_CONST')
        if m.optional:
            flags.append('VN_F_OPTIONAL')
        # Counts of pointer arrays keep their value in out structs.
        for s in siblings:
            if s.ptr and s.len and s.len.split(',')[0] == m.name:
                flags.append('VN_F_COUNT')
                break
        kind = None
        shape = 'VALUE'
        typ = '0'
        esize = '0'
        len_kind, len_field, aux, len_size = 'NONE', 0, '0', 0
        tname = self.reg.resolve(m.type)
        if m.name == 'pNext' and m.type == 'void':
            kind, shape = 'PNEXT', 'VALUE'
        elif m.name == 'sType' and m.values:
            kind = 'STYPE'
        elif m.name == 'pAllocator':
            kind, shape = 'ALLOCATOR', 'VALUE'
        elif m.type == 'void':
            kind, shape, esize = 'BLOB', 'ARRAY', '1'
        elif m.type == 'char':
            kind, esize = 'U8', '1'
            if m.fixed:
                shape = 'FIXED'
            elif m.ptr == 1:
                shape = 'STRING'
            else:
                shape = 'STRING_ARRAY'
                esize = 'sizeof(char *)'
        else:
            kind = self.kind_of(tname)
            if kind in ('STRUCT', 'UNION'):
                typ = 'VN_STRUCT_%s' % tname
                esize = 'sizeof(%s)' % tname
            elif kind == 'HANDLE':
                typ = 'VN_OBJ_%s' % tname
                esize = 'sizeof(%s)' % tname
            else:
                esize = 'sizeof(%s)' % ('size_t' if tname == 'size_t' else tname)
            if m.fixed:
                shape = 'FIXED'
            elif m.ptr == 1:
                shape = 'ARRAY' if m.len else 'PTR'
        if shape == 'FIXED':
            aux = m.fixed
        if shape in ('ARRAY', 'STRING_ARRAY') and m.len:
            ln = m.len.split(',')[0].replace('&gt;', '>')
            mm = re.match(r'^(\w+)->(\w+)$', ln)
            if ln in names:
                len_field = names.index(ln)
                cnt = siblings[len_field]
                len_kind = 'FIELD_PTR' if cnt.ptr else 'FIELD'
                len_size = 'sizeof(%s)' % ('size_t' if cnt.type == 'size_t' else cnt.type)
            elif ln == 'codeSize / 4':
                len_field, len_kind, len_size = names.index('codeSize'), 'DIV4', 'sizeof(size_t)'
            elif '+ 31' in ln:
                fname = ln.split()[0].strip('(')
                len_field, len_kind, len_size = names.index(fname), 'SAMPLEMASK', '4'
            elif mm:
                len_field = names.index(mm.group(1))
                ptype = self.reg.resolve(siblings[len_field].type)
                len_kind, aux, len_size = 'FIELD_MEMBER', 'offsetof(%s, %s)' % (ptype, mm.group(2)), '4'
            else:
                die('unhandled len %s' % ln)
        return '{ "%s", %s, %s, VN_K_%s, VN_S_%s, VN_L_%s, %s, %s, %d, %s, %s }' % (
            m.name, off, esize, kind, shape, len_kind, '|'.join(flags) or '0', typ,
            len_field, aux, len_size)

    # -- output ---------------------------------------------------------
    def run(self, outdir):
        reg = self.reg
        # Commands carried: every id whose command is supported.
        by_id = {}
        self.cmd_list = []
        self.cmd_names = {}
        for cid, name in self.ids:
            target = reg.resolve_cmd(name)
            if target not in reg.cmds:
                self.notes.append('command %s (%d): not in vk.xml, dropped' % (name, cid))
                continue
            ok, why = self.cmd_ok(target)
            if not ok:
                self.notes.append('command %s (%d): %s not serializable, dropped' % (name, cid, why))
                continue
            if target not in self.cmd_names:
                self.cmd_names[target] = []
                self.cmd_list.append(target)
            self.cmd_names[target].append(name)
            by_id[cid] = target
        # Structs reachable from carried commands must be described too.
        for c in self.cmd_list:
            for p in reg.cmds[c].findall('param'):
                self.type_ok(p.find('type').text)
        self.by_id = by_id
        self.max_id = max(cid for cid, _ in self.ids)
        os.makedirs(outdir, exist_ok=True)
        self.write(os.path.join(outdir, 'vn_gen.h'), self.gen_header())
        self.write(os.path.join(outdir, 'vn_gen_types.c'), self.gen_types())
        for part in range(CMD_PARTS):
            self.write(os.path.join(outdir, 'vn_gen_cmds%d.c' % part), self.gen_cmds(part))
        self.write(os.path.join(outdir, 'vn_gen_misc.c'), self.gen_misc())
        self.write(os.path.join(outdir, 'vn_gen_fast.inc'), self.gen_fast())
        with open(os.path.join(outdir, 'vn_gen_notes.txt'), 'w') as f:
            f.write('\n'.join(self.notes) + '\n')

    @staticmethod
    def write(path, text):
        tmp = path + '.tmp'
        with open(tmp, 'w') as f:
            f.write(text)
        os.replace(tmp, path)

    def level(self, cname):
        c = self.reg.cmds[cname]
        p0 = c.find('param/type').text
        if p0 in ('VkInstance', 'VkPhysicalDevice'):
            return 'INSTANCE'
        if p0 in ('VkDevice', 'VkQueue', 'VkCommandBuffer', 'VkExternalComputeQueueNV'):
            return 'DEVICE'
        return 'GLOBAL'

    def params(self, cname):
        return [Member(p) for p in self.reg.cmds[cname].findall('param')
                if p.get('api') != 'vulkansc']

    def ctype(self, m):
        t = m.type
        if m.fixed:
            return 'const %s *' % t
        s = ('const ' if m.const else '') + t
        s += ' *' * m.ptr
        if m.ptr == 2 and m.const:
            s = 'const %s * const *' % t
        return s

    def is_mesa(self, cname):
        return cname.endswith('MESA')

    def gen_header(self):
        reg = self.reg
        o = ['/* Generated by tools/gen_venus.py from vk.xml; do not edit. */',
             '#ifndef PV_VENUS_VN_GEN_H', '#define PV_VENUS_VN_GEN_H', '',
             '#include <stddef.h>', '#include <stdint.h>',
             '#include <vulkan/vulkan.h>', '']
        # Venus-only types.
        o.append('/* VK_MESA_venus_protocol / VK_EXT_command_serialization */')
        vp = ET.parse(self.venus_xml).getroot()
        for en in vp.iter('enum'):
            if en.get('name', '').startswith('VK_STRUCTURE_TYPE'):
                o.append('#define %s ((VkStructureType)%s)' % (en.get('name'), en.get('value')))
        for t in vp.find('types').findall('type'):
            if t.get('category') == 'bitmask':
                o.append('typedef VkFlags %s;' % t.find('name').text)
        for t in vp.find('types').findall('type'):
            if t.get('category') == 'struct':
                o.append('typedef struct %s {' % t.get('name'))
                for m in t.findall('member'):
                    mm = Member(m)
                    o.append('\t%s%s %s%s;' % ('const ' if mm.const else '', mm.type,
                                              '*' * mm.ptr, mm.name))
                o.append('} %s;' % t.get('name'))
        o += ['#define VN_RING_STATUS_IDLE 0x1u', '#define VN_RING_STATUS_FATAL 0x2u',
              '#define VN_RING_STATUS_ALIVE 0x4u', '#define VN_COMMAND_GENERATE_REPLY 0x1u', '']
        o.append('#define VN_CMD_TYPE_COUNT %d' % (self.max_id + 1))
        for cid, name in self.ids:
            o.append('#define VN_CMD_%s %d' % (name, cid))
        o.append('')
        o.append('enum vn_object_type {\n\tVN_OBJ_NONE = 0,')
        for h in self.handle_list:
            o.append('\tVN_OBJ_%s = %d,' % (h, self.handle_index[h]))
        o.append('\tVN_OBJ_COUNT = %d\n};' % (len(self.handle_list) + 1))
        o.append('extern const char *const vn_object_type_names[VN_OBJ_COUNT];')
        o.append('extern const uint8_t vn_object_type_parent[VN_OBJ_COUNT];')
        o.append('')
        o.append('enum vn_struct_id {')
        for s in self.struct_order:
            o.append('\tVN_STRUCT_%s = %d,' % (s, self.struct_index[s]))
        o.append('\tVN_STRUCT_COUNT = %d\n};' % len(self.struct_order))
        o.append('')
        # Function-pointer tables.
        for lvl in ('INSTANCE', 'DEVICE'):
            o.append('struct vn_%s_fns {' % lvl.lower())
            for c in self.cmd_list:
                if self.level(c) == lvl and not self.is_mesa(c):
                    o.append('\tPFN_%s %s;' % (c, c[2:]))
            if lvl == 'INSTANCE':
                o.append('\tPFN_vkGetDeviceProcAddr GetDeviceProcAddr;')
            else:
                for c in RENDERER_DEVICE_FNS:
                    if c not in self.cmd_names:
                        o.append('\tPFN_%s %s;' % (c, c[2:]))
            o.append('};')
        o.append('void vn_load_instance_fns(PFN_vkGetInstanceProcAddr gipa, VkInstance inst, struct vn_instance_fns *f);')
        o.append('void vn_load_device_fns(PFN_vkGetDeviceProcAddr gdpa, VkDevice dev, struct vn_device_fns *f);')
        o.append('')
        # Argument structs.
        for c in self.cmd_list:
            o.append('struct vn_args_%s {' % c)
            for p in self.params(c):
                o.append('\t%s %s;' % (self.ctype(p), p.name))
            ret = reg.cmds[c].find('proto/type').text
            if ret != 'void':
                o.append('\t%s ret;' % ret)
            o.append('\tchar pad_;')
            o.append('};')
        o.append('')
        o.append('struct vn_cmd_desc;')
        o.append('extern const struct vn_cmd_desc *const vn_cmd_table[VN_CMD_TYPE_COUNT];')
        for c in self.cmd_list:
            o.append('extern const struct vn_cmd_desc vn_cmd_%s;' % c)
        o.append('struct vn_stype_entry { int32_t stype; uint16_t index; };')
        o.append('extern const struct vn_stype_entry vn_stype_table[];')
        o.append('extern const size_t vn_stype_count;')
        o.append('struct vn_extension_info { const char *name; uint32_t number; uint32_t spec_version; };')
        o.append('extern const struct vn_extension_info vn_extension_table[];')
        o.append('extern const size_t vn_extension_count;')
        o.append('/* Destroys one host object with the device-level destroy/free command for its type; false if none. */')
        o.append('int vn_destroy_host_object(const struct vn_device_fns *f, VkDevice dev, uint64_t parent, enum vn_object_type type, uint64_t handle);')
        o.append('\n#endif')
        return '\n'.join(o) + '\n'

    def struct_fields(self, s):
        mems = self.members(s)
        return [self.field(m, mems, s, False) for m in mems]

    def gen_types(self):
        o = ['/* Generated by tools/gen_venus.py from vk.xml; do not edit. */',
             '#include "venus/vn_codec.h"', '']
        for s in self.struct_order:
            o.append('static const struct vn_field f_%s[] = {' % s)
            for f in self.struct_fields(s):
                o.append('\t%s,' % f)
            o.append('};')
        o.append('const struct vn_struct_desc vn_struct_table[VN_STRUCT_COUNT] = {')
        stypes = []
        for s in self.struct_order:
            el = self.reg.types[s]
            mems = self.members(s)
            st = '0'
            has = 0
            if mems and mems[0].name == 'sType' and mems[0].values:
                st = mems[0].values
                has = 1
                stypes.append((st, s))
            o.append('\t[VN_STRUCT_%s] = { "%s", sizeof(%s), %s, %d, %d, %d, f_%s },' % (
                s, s, s, st, has, el.get('category') == 'union', len(mems), s))
        o.append('};')
        o.append('const struct vn_stype_entry vn_stype_table[] = {')
        for st, s in stypes:
            o.append('\t{ %s, VN_STRUCT_%s },' % (st, s))
        o.append('};')
        o.append('const size_t vn_stype_count = %d;' % len(stypes))
        return '\n'.join(o) + '\n'

    def lifetime(self, c):
        """How a command changes the object table: (kind, param index, parent locator)."""
        params = self.params(c)
        name = c
        if re.match(r'^vk(Create|Allocate)', name):
            for i, p in enumerate(params):
                if self.kind_of(p.type) == 'HANDLE' and p.ptr == 1 and not p.const:
                    return 'CREATE', i, self.parent_locator(c, params, p.type)
        if re.match(r'^vk(Destroy|Free)', name) and name != 'vkFreeMemory' or name == 'vkFreeMemory':
            cand = [i for i, p in enumerate(params) if self.kind_of(p.type) == 'HANDLE']
            if len(cand) >= 1:
                i = cand[-1]
                return 'DESTROY', i, None
        return 'NONE', 0, None

    def parent_locator(self, c, params, htype):
        parent = self.reg.handles.get(htype, (False, None))[1]
        if not parent:
            return ('NONE', 0, '0')
        parents = parent.split(',')
        for i, p in enumerate(params):
            if p.type in parents and p.ptr == 0:
                return ('PARAM', i, '0')
        for i, p in enumerate(params):
            if p.ptr == 1 and p.const and self.kind_of(p.type) == 'STRUCT':
                for m in self.members(p.type):
                    if m.type in parents and m.ptr == 0:
                        return ('MEMBER', i, 'offsetof(%s, %s)' % (p.type, m.name))
        return ('NONE', 0, '0')

    def gen_cmds(self, part):
        reg = self.reg
        o = ['/* Generated by tools/gen_venus.py from vk.xml; do not edit. */',
             '#include "venus/vn_codec.h"', '']
        for idx, c in enumerate(self.cmd_list):
            if idx % CMD_PARTS != part:
                continue
            params = self.params(c)
            lvl = self.level(c)
            ret = reg.cmds[c].find('proto/type').text
            o.append('static const struct vn_field p_%s[] = {' % c)
            for p in params:
                o.append('\t%s,' % self.field(p, params, 'struct vn_args_%s' % c, True))
            o.append('};')
            call = 'NULL'
            if lvl != 'GLOBAL' and not self.is_mesa(c):
                call = 'call_%s' % c
                args = ', '.join('a->%s' % p.name for p in params)
                o.append('static void call_%s(const void *fns, void *args)\n{' % c)
                o.append('\tstruct vn_args_%s *a = args;' % c)
                o.append('\tconst struct vn_%s_fns *f = fns;' % lvl.lower())
                o.append('\tif (!f->%s) return;' % c[2:])
                if ret == 'void':
                    o.append('\tf->%s(%s);' % (c[2:], args))
                else:
                    o.append('\ta->ret = f->%s(%s);' % (c[2:], args))
                o.append('}')
            kind, pidx, loc = self.lifetime(c)
            loc = loc or ('NONE', 0, '0')
            retk = {'void': 'VOID', 'VkResult': 'RESULT', 'VkBool32': 'U32', 'uint32_t': 'U32'}.get(ret, 'U64')
            o.append('const struct vn_cmd_desc vn_cmd_%s = {' % c)
            o.append('\t"%s", sizeof(struct vn_args_%s), %d, p_%s, VN_LEVEL_%s, VN_RET_%s, %s,' % (
                c, c, len(params), c, lvl, retk,
                'offsetof(struct vn_args_%s, ret)' % c if ret != 'void' else '0'))
            o.append('\t%s, VN_LIFE_%s, %d, VN_PARENT_%s, %d, %s,' % (call, kind, pidx, loc[0], loc[1], loc[2]))
            o.append('};')
        return '\n'.join(o) + '\n'

    def fast_step(self, m, params, i):
        """The decode call for parameter i of a straight-line decoder:
        inline for plain values, const arrays of them and const structs,
        else the table walk for that one parameter (single out pointers,
        strings, unions, pAllocator) -- what decode_fields would call."""
        step = self.plain_step(m, params, i) or self.struct_step(m, params, i, 'a', True)
        return step or 'decode_field(d, f, &f[%d], a, IN, true);' % i

    def fast_struct_ok(self, tname):
        """Structs (not unions) get a generated decoder of their own."""
        tname = self.reg.resolve(tname)
        return self.kind_of(tname) == 'STRUCT' and tname in self.struct_index

    def struct_step(self, m, sibs, i, base, is_param):
        """A const struct, single or an array counted by a sibling, decoded
        by the struct's generated decoder (IN mode only: out structs keep
        the table walk, which knows PARTIAL)."""
        if m.name in ('pNext', 'sType', 'pAllocator') or m.fixed:
            return None
        if not self.fast_struct_ok(m.type):
            return None
        t = self.reg.resolve(m.type)
        if m.ptr > 1 or (m.ptr == 1 and not m.const):
            return None
        self.fs_used.add(t)
        if m.ptr == 0:
            return 'fs_%s(d, &%s->%s);' % (t, base, m.name)
        if not m.len:
            return '{ %s *p = begin_struct_ptr(d, &f[%d], %s, %s); if (p) fs_%s(d, p); }' % (
                t, i, base, 'true' if is_param else 'false', t)
        return ('{ uint64_t n; %s *p = begin_struct_array(d, f, &f[%d], %s, &n); '
                'for (uint64_t k = 0; p && k < n && !d->fatal; k++) fs_%s(d, &p[k]); }') % (
                    t, i, base, t)

    def member_step(self, m, mems, i):
        """One member of a struct's generated decoder (IN mode)."""
        kind = self.kind_of(m.type) if m.type not in ('void', 'char') else None
        if m.name == 'sType' and m.values:
            return 'dec_stype(d, &s->sType);'
        if m.name == 'pNext' and m.type == 'void':
            return 's->pNext = decode_pnext(d, IN);'
        if m.ptr == 0 and not m.fixed:
            if kind == 'HANDLE':
                return 'read_handle(d, &f[%d], &s->%s);' % (i, m.name)
            if kind == 'U64':
                return 'dec_scalar64(d, &s->%s, sizeof(s->%s));' % (m.name, m.name)
            if kind in ('U8', 'U16', 'U32'):
                return 'dec_scalar32(d, &s->%s, sizeof(s->%s));' % (m.name, m.name)
        step = self.struct_step(m, mems, i, 's', False)
        return step or 'decode_field(d, f, &f[%d], s, IN, false);' % i

    def gen_fast_structs(self):
        """Decoders for the structs the command decoders reach (and the
        structs those reach), declared first so any order works."""
        body, done = [], set()
        while self.fs_used - done:
            t = sorted(self.fs_used - done)[0]
            done.add(t)
            mems = self.members(t)
            body.append('static void fs_%s(struct vn_decoder *d, %s *s)\n{' % (t, t))
            body.append('\tconst struct vn_field *f = vn_struct_table[VN_STRUCT_%s].fields;' % t)
            steps = [self.member_step(m, mems, i) for i, m in enumerate(mems)]
            if not any('f[' in st or ', f,' in st for st in steps):
                body.append('\t(void)f;')
            body.append('\tif (!struct_enter(d))\n\t\treturn;')
            body += ['\t' + st for st in steps]
            body.append('\td->depth--;')
            body.append('}')
            body.append('')
        decl = ['static void fs_%s(struct vn_decoder *d, %s *s);' % (t, t) for t in sorted(done)]
        self.notes.append('%d structs have straight-line decoders' % len(done))
        return decl + [''] + body

    def plain_step(self, m, params, i):
        if m.name in ('pNext', 'sType', 'pAllocator') or m.fixed or m.type == 'char':
            return None
        names = [p.name for p in params]
        if m.ptr == 0:
            kind = self.kind_of(m.type)
            if kind == 'HANDLE':
                return 'read_handle(d, &f[%d], &a->%s);' % (i, m.name)
            if kind == 'U64':
                return 'dec_scalar64(d, &a->%s, sizeof(a->%s));' % (m.name, m.name)
            if kind in ('U8', 'U16', 'U32'):
                return 'dec_scalar32(d, &a->%s, sizeof(a->%s));' % (m.name, m.name)
            return None
        # A const array counted by an earlier plain parameter.
        if m.ptr != 1 or not m.const or not m.len:
            return None
        ln = m.len.split(',')[0]
        if ln not in names or names.index(ln) >= i or params[names.index(ln)].ptr:
            return None
        kind = 'BLOB' if m.type == 'void' else self.kind_of(m.type)
        if kind not in ('BLOB', 'HANDLE', 'U8', 'U16', 'U32', 'U64', 'UNION'):
            return None
        if kind == 'UNION':
            return 'decode_array(d, f, &f[%d], a, IN, false);' % i
        # The count is a plain parameter already decoded: pass its value.
        head = '{ uint64_t n; void *p = begin_plain_array(d, &f[%d], a, (uint64_t)a->%s, %s, &n); ' % (
            i, ln, '8' if kind == 'HANDLE' else 'f[%d].elem_size' % i)
        if kind == 'HANDLE':
            return head + ('for (uint64_t k = 0; p && k < n && !d->fatal; k++) '
                           'read_handle(d, &f[%d], (char *)p + 8 * k); }' % i)
        return head + 'if (p) dec_bytes(d, p, n * f[%d].elem_size); }' % i

    def gen_fast(self):
        """A straight-line decoder per command: included by vn_codec.c,
        which owns the helpers they call."""
        o = ['/* Generated by tools/gen_venus.py from vk.xml; do not edit.',
             ' * Included by src/venus/vn_codec.c. */', '']
        self.fs_used = set()
        cmds = []
        have = set()
        for c in self.cmd_list:
            params = self.params(c)
            steps = [self.fast_step(p, params, i) for i, p in enumerate(params)]
            if not steps:
                continue
            have.add(c)
            cmds.append('static void fast_%s(struct vn_decoder *d, const struct vn_field *f, void *args)\n{' % c)
            cmds.append('\tstruct vn_args_%s *a = args;' % c)
            if not any('f[' in st or ', f,' in st for st in steps):
                cmds.append('\t(void)f;')
            cmds += ['\t' + st for st in steps]
            cmds.append('}')
            cmds.append('')
        o += self.gen_fast_structs() + cmds
        o.append('static const vn_fast_decode_fn vn_fast_decoders[VN_CMD_TYPE_COUNT] = {')
        for cid in sorted(self.by_id):
            if self.by_id[cid] in have:
                o.append('\t[%d] = fast_%s,' % (cid, self.by_id[cid]))
        o.append('};')
        self.notes.append('%d commands have straight-line decoders' % len(have))
        return '\n'.join(o) + '\n'

    def gen_misc(self):
        reg = self.reg
        o = ['/* Generated by tools/gen_venus.py from vk.xml; do not edit. */',
             '#include <string.h>', '#include "venus/vn_codec.h"', '']
        o.append('const struct vn_cmd_desc *const vn_cmd_table[VN_CMD_TYPE_COUNT] = {')
        for cid in sorted(self.by_id):
            o.append('\t[%d] = &vn_cmd_%s,' % (cid, self.by_id[cid]))
        o.append('};')
        o.append('const char *const vn_object_type_names[VN_OBJ_COUNT] = { "none",')
        for h in self.handle_list:
            o.append('\t"%s",' % h)
        o.append('};')
        o.append('const uint8_t vn_object_type_parent[VN_OBJ_COUNT] = { 0,')
        for h in self.handle_list:
            par = (reg.handles[h][1] or '').split(',')[0]
            o.append('\t%s,' % ('VN_OBJ_' + par if par in self.handle_index else '0'))
        o.append('};')
        for lvl, fn, arg, ty in (('instance', 'GetInstanceProcAddr', 'inst', 'VkInstance'),
                                 ('device', 'GetDeviceProcAddr', 'dev', 'VkDevice')):
            o.append('void vn_load_%s_fns(PFN_vk%s gpa, %s %s, struct vn_%s_fns *f)\n{' % (
                lvl, fn, ty, arg, lvl))
            o.append('\tmemset(f, 0, sizeof(*f));')
            if lvl == 'instance':
                o.append('\tf->GetDeviceProcAddr = (PFN_vkGetDeviceProcAddr)gpa(inst, "vkGetDeviceProcAddr");')
            else:
                for c in RENDERER_DEVICE_FNS:
                    if c not in self.cmd_names:
                        o.append('\tf->%s = (PFN_%s)gpa(dev, "%s");' % (c[2:], c, c))
            for c in self.cmd_list:
                if self.level(c).lower() != lvl or self.is_mesa(c):
                    continue
                names = [c] + [n for n in sorted(set(self.cmd_names[c])) if n != c]
                for a, alias in enumerate(names):
                    pre = '' if a == 0 else 'if (!f->%s) ' % c[2:]
                    o.append('\t%sf->%s = (PFN_%s)gpa(%s, "%s");' % (pre, c[2:], c, arg, alias))
            o.append('}')
        o.append('const struct vn_extension_info vn_extension_table[] = {')
        for name, num, spec in sorted(self.exts):
            o.append('\t{ "%s", %d, %d },' % (name, num, spec))
        o.append('};')
        o.append('const size_t vn_extension_count = %d;' % len(self.exts))
        # Destroy calls per object type, for context teardown.
        o.append('int vn_destroy_host_object(const struct vn_device_fns *f, VkDevice dev, uint64_t parent, enum vn_object_type type, uint64_t handle)\n{')
        o.append('\t(void)parent;\n\tswitch (type) {')
        for c in self.cmd_list:
            if self.level(c) != 'DEVICE' or not re.match(r'^vk(Destroy|Free)', c):
                continue
            params = self.params(c)
            if [p.name for p in params][-1] != 'pAllocator' or len(params) != 3:
                continue
            if params[0].type != 'VkDevice':
                continue
            h = params[1].type
            if h == 'VkDevice':
                continue
            o.append('\tcase VN_OBJ_%s:\n\t\tif (!f->%s) return 0;\n\t\tf->%s(dev, (%s)(uintptr_t)handle, NULL);\n\t\treturn 1;' % (
                h, c[2:], c[2:], h))
        o.append('\tdefault:\n\t\treturn 0;\n\t}\n}')
        return '\n'.join(o) + '\n'


def main():
    if len(sys.argv) != 4:
        die('usage: gen_venus.py VK_XML DATA_DIR OUT_DIR')
    vkxml, data, out = sys.argv[1:]
    venus_xml = os.path.join(data, 'venus_protocol.xml')
    reg = Registry([vkxml, venus_xml])
    ids = []
    with open(os.path.join(data, 'command_types.txt')) as f:
        for line in f:
            line = line.split('#')[0].split()
            if line:
                ids.append((int(line[0]), line[1]))
    exts = []
    with open(os.path.join(data, 'extensions.txt')) as f:
        for line in f:
            line = line.split('#')[0].strip()
            if line:
                exts.append(line)
    for must in ('VK_EXT_command_serialization', 'VK_MESA_venus_protocol'):
        if must not in exts:
            exts.append(must)
    g = Gen(reg, ids, exts)
    g.venus_xml = venus_xml
    g.run(out)


if __name__ == '__main__':
    main()
