"""A vector gather that numba's loops cannot get from LLVM on their own.

A loop that stores ``out[c] = table[rows[c] + columns[c]]`` stays scalar: LLVM cannot
rule out that the store overwrites ``table`` (it proves that only for affine accesses,
and numba marks no array as ``noalias``), so it never forms a gather. The pair kernels
spend a fifth of a 300-letter Viterbi alignment in such a loop (the match emissions
of each anti-diagonal). :func:`gather_sums` emits LLVM's ``masked.gather`` directly for
:data:`GATHER_WIDTH` items at once (one instruction on AVX-512 and AVX2 machines; LLVM
splits or scalarises it elsewhere, with the same result).
"""

from llvmlite import binding, ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

#: Items one :func:`gather_sums` call moves.
GATHER_WIDTH = 8
#: The intrinsic's name: LLVM 17 and later have only opaque pointers (``p0``); older
#: ones (numba 0.59-0.61) name the pointee (``p0f64``).
GATHER_NAME = (f"llvm.masked.gather.v{GATHER_WIDTH}f64.v{GATHER_WIDTH}p0"
               + ("" if binding.llvm_version_info >= (17,) else "f64"))


def _splat(builder, value, vector):
    """``value`` in every lane of ``vector`` (an LLVM vector type)."""
    lanes = ir.Constant(vector, None)
    lanes = builder.insert_element(lanes, value, ir.Constant(ir.IntType(32), 0))
    return builder.shuffle_vector(lanes, ir.Constant(vector, None),
                                  ir.Constant(ir.VectorType(ir.IntType(32), vector.count),
                                              [0] * vector.count))


@intrinsic
def gather_sums(typingctx, out, at, table, base, rows, row_at, columns, column_at):
    """``out[at + c] = table[base + rows[row_at + c] + columns[column_at + c]]`` for
    ``c < GATHER_WIDTH``, offsets flat (C-contiguous arrays; ``float64`` ``out`` and
    ``table``, ``int64`` ``rows`` and ``columns``); the caller keeps every index in
    bounds. Bit for bit what the scalar loop stores."""
    arrays = (out, table, rows, columns)
    dtypes = (types.float64, types.float64, types.int64, types.int64)
    if not all(isinstance(array, types.Array) and array.layout == "C" and array.dtype == dtype
               for array, dtype in zip(arrays, dtypes)):
        return None
    signature = types.void(out, types.uint64, table, types.uint64, rows, types.uint64,
                           columns, types.uint64)

    def codegen(context, builder, sig, args):
        def data(position):
            return context.make_array(sig.args[position])(context, builder,
                                                          args[position]).data

        integers = ir.VectorType(ir.IntType(64), GATHER_WIDTH)
        doubles = ir.VectorType(ir.DoubleType(), GATHER_WIDTH)
        row_items = builder.load(builder.bitcast(builder.gep(data(4), [args[5]]),
                                                 integers.as_pointer()), align=8)
        column_items = builder.load(builder.bitcast(builder.gep(data(6), [args[7]]),
                                                    integers.as_pointer()), align=8)
        index = builder.add(builder.add(row_items, column_items),
                            _splat(builder, args[3], integers))
        start = builder.ptrtoint(data(2), ir.IntType(64))
        addresses = builder.add(_splat(builder, start, integers),
                                builder.shl(index, ir.Constant(integers, [3] * GATHER_WIDTH)))
        pointers = builder.inttoptr(addresses, ir.VectorType(data(2).type, GATHER_WIDTH))
        function = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(doubles, [pointers.type, ir.IntType(32),
                                      ir.VectorType(ir.IntType(1), GATHER_WIDTH), doubles]),
            GATHER_NAME)
        gathered = builder.call(function, [
            pointers, ir.Constant(ir.IntType(32), 8),
            ir.Constant(ir.VectorType(ir.IntType(1), GATHER_WIDTH), [1] * GATHER_WIDTH),
            ir.Constant(doubles, None)])
        builder.store(gathered, builder.bitcast(builder.gep(data(0), [args[1]]),
                                                doubles.as_pointer()), align=8)
        return context.get_dummy_value()

    return signature, codegen
