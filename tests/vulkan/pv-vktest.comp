#version 450
// out[i] = in[i] * mul + i: every element depends on its input and index,
// so a skipped, duplicated or misplaced invocation shows in the readback.
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer Src { uint src[]; };
layout(std430, binding = 1) writeonly buffer Dst { uint dst[]; };
layout(push_constant) uniform Params { uint n; uint mul; } params;
void main()
{
	uint i = gl_GlobalInvocationID.x;
	if (i < params.n)
		dst[i] = src[i] * params.mul + i;
}
