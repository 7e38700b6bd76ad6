"""Pure core of the back office: work-order lifecycle, deadlines, numbering and masking."""
