#![no_std]
#![no_main]
unik_solo5::manifest! {}
unik_solo5::abi1_note!(hvt);
