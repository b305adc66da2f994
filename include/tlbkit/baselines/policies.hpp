// Baseline policies: models of how other systems maintain their TLBs, each
// one named version of one system read from that version's source, as real
// maint::Policy implementations on tlbkit's types, so that the replay, the
// comparison and the property tests run every system on the same inputs.
// One header per system says what it models, where it was read and what it
// leaves out; docs/BASELINES.md indexes the account of each.
//
// A model reproduces the modelled system's behaviour, its known bugs
// included where a plan can show them; such a model is registered with
// Contract::known_bug (tlbkit/baselines/registry.hpp) and the simulator
// catches it. Where a system's behaviour cannot be held by a Plan, or a
// known bug cannot be shown through the Policy interface, the header says
// so and the model does the nearest correct thing.
#pragma once

#include "tlbkit/baselines/elfuse.hpp"
#include "tlbkit/baselines/freebsd.hpp"
#include "tlbkit/baselines/hafnium.hpp"
#include "tlbkit/baselines/kvm.hpp"
#include "tlbkit/baselines/linux.hpp"
#include "tlbkit/baselines/zircon.hpp"
