#version 450
// vk-smoke's compute check: out[i] = i * 3 + push.base.
layout(local_size_x = 64) in;
layout(std430, set = 0, binding = 0) buffer Out { uint v[]; } o;
layout(push_constant) uniform Push { uint base; } push;
void main()
{
	uint i = gl_GlobalInvocationID.x;
	o.v[i] = i * 3u + push.base;
}
