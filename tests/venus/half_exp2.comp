#version 450
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
// vk-smoke's half-precision check: out[i] = exp2((i + base) % 8) in float16.
// llvmpipe has no inline half exp2: its JIT code calls the C library's
// exp2f, which the renderer process must make resolvable (gpu_host_runtime).
layout(local_size_x = 64) in;
layout(std430, set = 0, binding = 0) buffer Out { uint v[]; } o;
layout(push_constant) uniform Push { uint base; } push;
void main()
{
	uint i = gl_GlobalInvocationID.x;
	float16_t x = float16_t((i + push.base) % 8u);
	o.v[i] = uint(float(exp2(x)));
}
